// Ingress' own SQLite file {data_dir}/ingress.db with TeleClaude's
// `quarantined_events` table (schema: doc/ingress.md "ingress.db").
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_QUARANTINE_STORE_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_QUARANTINE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/delivery/single_writer.h"
#include "common/envelope/envelope.h"
#include "common/sqlite/database.h"
#include "common/sqlite/write_health.h"
#include "teleclaude/mesh/v1/ingress.pb.h"

namespace teleclaude::mesh {

// One event to quarantine.
struct QuarantineRecord {
  std::string stream_entry_id;  // unique: a replayed entry is stored once
  std::string source_computer;
  EventEnvelope envelope;
  std::vector<std::string> flags;
};

// Writes go through the database's one writer (a SingleWriter: one
// transaction per round; on SQLITE_FULL the WAL is checkpointed and
// truncated and the writer backs off, and write_health() reports the disk
// full until a commit succeeds — issue 18 "Disk full"). Reads use a
// connection of their own.
//
// Thread-safe: every method may be called from any thread.
class QuarantineStore {
 public:
  // Opens (creating and migrating) the database at `path` and starts its
  // writer. Errors carry the path (UNAVAILABLE / FAILED_PRECONDITION from
  // SQLite).
  static absl::StatusOr<std::unique_ptr<QuarantineStore>> Open(const std::string& path);
  ~QuarantineStore();  // stops the writer (what is queued is written first)
  QuarantineStore(const QuarantineStore&) = delete;
  QuarantineStore& operator=(const QuarantineStore&) = delete;

  // Stores `records` in one transaction and returns once it committed or
  // failed. A record whose stream_entry_id is already stored is left as it
  // is (a batch replayed after a crash). Returns the row id of each record,
  // in order; on error nothing of `records` is stored (SQLite's status:
  // UNAVAILABLE for a full disk, which write_health() then reports).
  absl::StatusOr<std::vector<int64_t>> InsertBatch(const std::vector<QuarantineRecord>& records);

  // Newest first (by id). limit <= 0 means 50; at most 1000.
  absl::StatusOr<std::vector<v1::QuarantinedEvent>> List(int limit, int offset);

  const std::string& path() const { return path_; }
  // What the writer last saw of its commits (for a WriteHealthProbe); lives
  // as long as the store.
  const WriteHealth* write_health() const { return &write_health_; }

 private:
  QuarantineStore(std::string path, std::unique_ptr<Database> db, std::unique_ptr<Database> reader);

  const std::string path_;
  WriteHealth write_health_;
  const std::unique_ptr<Database> db_;  // the writer's; outlives writer_
  std::unique_ptr<SingleWriter> writer_;

  absl::Mutex read_mu_;
  const std::unique_ptr<Database> reader_ ABSL_PT_GUARDED_BY(read_mu_);
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_QUARANTINE_STORE_H_
