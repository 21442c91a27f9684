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
#include "common/envelope/envelope.h"
#include "common/sqlite/database.h"
#include "teleclaude/mesh/v1/ingress.pb.h"

namespace teleclaude::mesh {

// One event to quarantine.
struct QuarantineRecord {
  std::string stream_entry_id;  // unique: a replayed entry is stored once
  std::string source_computer;
  EventEnvelope envelope;
  std::vector<std::string> flags;
};

// Thread-safe (one connection behind a mutex; the consumer is the only
// writer, gRPC handlers read).
class QuarantineStore {
 public:
  // Opens (creating and migrating) the database at `path`. Errors carry the
  // path (UNAVAILABLE / FAILED_PRECONDITION from SQLite).
  static absl::StatusOr<std::unique_ptr<QuarantineStore>> Open(const std::string& path);

  // Stores `records` in one transaction. A record whose stream_entry_id is
  // already stored is left as it is (a batch replayed after a crash). Returns
  // the row id of each record, in order.
  absl::StatusOr<std::vector<int64_t>> InsertBatch(const std::vector<QuarantineRecord>& records);

  // Newest first (by id). limit <= 0 means 50; at most 1000.
  absl::StatusOr<std::vector<v1::QuarantinedEvent>> List(int limit, int offset);

  const std::string& path() const { return path_; }

 private:
  QuarantineStore(std::unique_ptr<Database> db, std::string path)
      : path_(std::move(path)), db_(std::move(db)) {}

  const std::string path_;
  absl::Mutex mu_;
  std::unique_ptr<Database> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_QUARANTINE_STORE_H_
