// The one "already seen this id" ledger: an input, push or batch whose id is
// recorded had its effect, so a copy of it (a redelivered stream entry, a
// re-sent mesh message, a retried RPC) has none. Ids are recorded in the
// same transaction as the effects; they expire after `ttl` (a copy arriving
// later than that is treated as new).
//
// Table, in the owner's database (created by the owner's migration with
// SeenIds::Schema; doc/events-db.md, doc/installer-db.md):
//   CREATE TABLE seen_ids (id TEXT PRIMARY KEY, seen_ms INTEGER NOT NULL) WITHOUT ROWID;
//   CREATE INDEX idx_seen_ids_seen_ms ON seen_ids (seen_ms);
// Owners that record ids of several kinds give each kind its own prefix
// ("push:", "invocations:", ...).
//
// Thread-compatible: used on the thread that owns the database (its
// SingleWriter); the database must outlive it.
#ifndef TELECLAUDE_MESH_COMMON_DELIVERY_SEEN_IDS_H_
#define TELECLAUDE_MESH_COMMON_DELIVERY_SEEN_IDS_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/delivery/writer_chore.h"
#include "common/sqlite/database.h"

namespace teleclaude::mesh {

class SeenIds : public WriterChore {
 public:
  struct Options {
    absl::Duration ttl = absl::Hours(24 * 7);
    // Pruning: a pass every prune_every deletes expired ids prune_chunk per
    // transaction, one transaction per RunIfDue, until none is left (keeps
    // up at any input rate without stalling the writer).
    absl::Duration prune_every = absl::Minutes(10);
    int prune_chunk = 5000;
    const Clock* clock = Clock::Real();
  };

  // The CREATE statements of the table, for the owner's migration.
  static std::string Schema();

  SeenIds(Database* db, Options options);

  // Records `id` as seen now. Returns true when it is new, false when it was
  // already recorded (the thing it names had its effect). REQUIRES: inside
  // the owner's transaction with the effects.
  absl::StatusOr<bool> MarkSeen(std::string_view id);
  // Whether `id` is recorded (and not yet pruned).
  absl::StatusOr<bool> Contains(std::string_view id);
  // Deletes at most `limit` ids seen before now - ttl; returns how many.
  // REQUIRES: inside a transaction (RunIfDue opens its own).
  absl::StatusOr<int64_t> PruneExpired(int limit);

  // WriterChore: a pruning step when a pass is due or running.
  bool RunIfDue(absl::Time now) override;

  // Ids deleted by pruning since construction. Any thread.
  int64_t pruned() const { return pruned_.load(std::memory_order_relaxed); }

 private:
  Database* const db_;
  const Options options_;
  // Pruning state (writer thread).
  absl::Time next_pass_ = absl::InfinitePast();
  bool pruning_ = false;
  int64_t pass_cut_ms_ = 0;
  int64_t pruned_in_pass_ = 0;
  std::atomic<int64_t> pruned_{0};
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_DELIVERY_SEEN_IDS_H_
