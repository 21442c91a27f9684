#include "common/delivery/seen_ids.h"

#include "common/base/status_macros.h"
#include "common/sqlite/transaction.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

std::string SeenIds::Schema() {
  return "CREATE TABLE seen_ids (\n"
         "    id TEXT PRIMARY KEY,\n"
         "    seen_ms INTEGER NOT NULL\n"
         ") WITHOUT ROWID;\n"
         "CREATE INDEX idx_seen_ids_seen_ms ON seen_ids (seen_ms);\n";
}

SeenIds::SeenIds(Database* db, Options options) : db_(db), options_(options) {}

absl::StatusOr<bool> SeenIds::MarkSeen(std::string_view id) {
  TM_ASSIGN_OR_RETURN(Statement * s,
                      db_->Cached("INSERT OR IGNORE INTO seen_ids (id, seen_ms) VALUES (?, ?)"));
  s->Bind(1, id).Bind(2, absl::ToUnixMillis(options_.clock->Now()));
  TM_RETURN_IF_ERROR(s->Run());
  return db_->Changes() > 0;
}

absl::StatusOr<bool> SeenIds::Contains(std::string_view id) {
  TM_ASSIGN_OR_RETURN(Statement * s, db_->Cached("SELECT 1 FROM seen_ids WHERE id = ?"));
  s->Bind(1, id);
  TM_ASSIGN_OR_RETURN(bool row, s->Step());
  s->Reset();
  return row;
}

absl::StatusOr<int64_t> SeenIds::PruneExpired(int limit) {
  const int64_t cut =
      pruning_ ? pass_cut_ms_ : absl::ToUnixMillis(options_.clock->Now() - options_.ttl);
  TM_ASSIGN_OR_RETURN(Statement * s,
                      db_->Cached("DELETE FROM seen_ids WHERE id IN (SELECT id FROM seen_ids "
                                  "WHERE seen_ms < ? LIMIT ?)"));
  s->Bind(1, cut).Bind(2, static_cast<int64_t>(limit));
  TM_RETURN_IF_ERROR(s->Run());
  return db_->Changes();
}

bool SeenIds::RunIfDue(absl::Time now) {
  if (!pruning_) {
    if (now < next_pass_) return false;
    pruning_ = true;
    pass_cut_ms_ = absl::ToUnixMillis(now - options_.ttl);
    pruned_in_pass_ = 0;
  }
  absl::StatusOr<int64_t> n = [&]() -> absl::StatusOr<int64_t> {
    TM_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_));
    TM_ASSIGN_OR_RETURN(int64_t deleted, PruneExpired(options_.prune_chunk));
    TM_RETURN_IF_ERROR(txn.Commit());
    return deleted;
  }();
  if (n.ok()) {
    pruned_in_pass_ += *n;
    pruned_.fetch_add(*n, std::memory_order_relaxed);
  } else {
    LOG(WARNING) << "pruning seen ids: " << n.status().message() << " (retried in "
                 << absl::FormatDuration(options_.prune_every) << ")";
  }
  if (!n.ok() || *n < options_.prune_chunk) {
    pruning_ = false;
    next_pass_ = now + options_.prune_every;
    if (pruned_in_pass_ > 0) {
      LOG(INFO) << db_->path() << ": forgot " << pruned_in_pass_ << " seen id(s) older than "
                << absl::FormatDuration(options_.ttl);
    }
    return false;
  }
  return true;
}

}  // namespace teleclaude::mesh
