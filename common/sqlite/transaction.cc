#include "common/sqlite/transaction.h"

#include "common/base/status_macros.h"

namespace teleclaude::mesh {

absl::StatusOr<Transaction> Transaction::Begin(Database* db, Mode mode) {
  TM_RETURN_IF_ERROR(db->Exec(mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  return Transaction(db);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(other.db_), done_(other.done_) {
  other.done_ = true;
}

Transaction::~Transaction() {
  if (!done_) db_->Exec("ROLLBACK").IgnoreError();
}

absl::Status Transaction::Commit() {
  absl::Status s = db_->Exec("COMMIT");
  if (s.ok()) done_ = true;
  return s;
}

}  // namespace teleclaude::mesh
