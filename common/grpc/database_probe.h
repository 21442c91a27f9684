// ReadinessProbe of a SQLite database the service writes: can it still be
// written? Each check opens the file anew (read-write, never creating it),
// takes the write lock (BEGIN IMMEDIATE, within `timeout`) and gives it
// back without writing anything, and looks at the free space of the file
// system. It fails when the file is gone, can only be opened read-only
// (file, directory or file system not writable, an immutable file), another
// connection holds the write lock longer than `timeout`, or the file system
// has less than `min_free_bytes` left. It writes nothing, so it adds nothing
// to the WAL the service checkpoints on its own schedule.
#ifndef TELECLAUDE_MESH_COMMON_GRPC_DATABASE_PROBE_H_
#define TELECLAUDE_MESH_COMMON_GRPC_DATABASE_PROBE_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "common/grpc/readiness_probe.h"

namespace teleclaude::mesh {

// Thread-compatible (the monitor calls it from one thread).
class DatabaseProbe final : public ReadinessProbe {
 public:
  struct Options {
    std::string name;  // "events.db"
    std::string path;  // the database file
    absl::Duration timeout = absl::Seconds(2);
    int64_t min_free_bytes = 1 << 20;
  };
  explicit DatabaseProbe(Options options);

  const std::string& name() const override { return options_.name; }
  const std::string& target() const override { return options_.path; }
  // UNAVAILABLE "<path> cannot be opened: ...", FAILED_PRECONDITION "<path>
  // is read-only ...", "... is locked by another writer for more than 2 s",
  // RESOURCE_EXHAUSTED "no space left ...".
  absl::Status Check() override;

 private:
  const Options options_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_DATABASE_PROBE_H_
