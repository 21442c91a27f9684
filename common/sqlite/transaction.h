// RAII transactions: rolled back unless committed.
#ifndef TELECLAUDE_MESH_COMMON_SQLITE_TRANSACTION_H_
#define TELECLAUDE_MESH_COMMON_SQLITE_TRANSACTION_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/sqlite/database.h"

namespace teleclaude::mesh {

// Movable. Thread-compatible (the Database's thread).
class Transaction {
 public:
  enum class Mode { kDeferred, kImmediate };

  // BEGIN [IMMEDIATE]. `db` must outlive the transaction.
  static absl::StatusOr<Transaction> Begin(Database* db, Mode mode = Mode::kImmediate);
  ~Transaction();  // ROLLBACK when not committed
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;

  // COMMIT. After an error the transaction is rolled back by the destructor.
  absl::Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;
  bool done_ = false;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_SQLITE_TRANSACTION_H_
