// What the one writer of a database last saw of its commits, for health and
// `telec status` (issue 18 "Disk full"): OK, or the disk has been full since
// a time. The writer reports every commit and every failed transaction; a
// ReadinessProbe (common/grpc/write_health_probe.h) reads Check().
//
// Thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_SQLITE_WRITE_HEALTH_H_
#define TELECLAUDE_MESH_COMMON_SQLITE_WRITE_HEALTH_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/base/clock.h"

namespace teleclaude::mesh {

class WriteHealth {
 public:
  // `name` is the database's ("events.db"); `clock` is not owned.
  explicit WriteHealth(std::string name, const Clock* clock = Clock::Real());

  // A transaction committed: a disk-full condition is over (logged once).
  void Committed();
  // A transaction failed with `status`. Returns true when the disk (or the
  // file system's quota) is full (SQLITE_FULL), which is then recorded;
  // other errors change nothing here.
  bool Failed(const absl::Status& status);

  // OK, or RESOURCE_EXHAUSTED "<name>: disk full since <time> (<n> failed
  // transactions; ...): <the last SQLite error>".
  absl::Status Check() const;
  bool disk_full() const;

 private:
  const std::string name_;
  const Clock* const clock_;
  mutable absl::Mutex mu_;
  bool full_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time since_ ABSL_GUARDED_BY(mu_);
  int64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_SQLITE_WRITE_HEALTH_H_
