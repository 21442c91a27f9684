// A prepared SQLite statement (RAII over sqlite3_stmt).
#ifndef TELECLAUDE_MESH_COMMON_SQLITE_STATEMENT_H_
#define TELECLAUDE_MESH_COMMON_SQLITE_STATEMENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct sqlite3;
struct sqlite3_stmt;

namespace teleclaude::mesh {

// Movable, not copyable. Thread-compatible: used by the thread that owns its
// Database. Bind indexes start at 1, column indexes at 0 (SQLite's own).
class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::string context);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view value);  // copied (SQLITE_TRANSIENT)
  Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Statement& Bind(int index, const std::string& value) {
    return Bind(index, std::string_view(value));
  }
  Statement& Bind(int index, const std::optional<std::string>& value);  // nullopt = NULL
  Statement& BindNull(int index);

  // Steps once: true when a row is available, false when done. Errors carry
  // the database path and the SQL, and are mapped as described at
  // SqliteStatus() below (ALREADY_EXISTS for UNIQUE/PRIMARY KEY failures).
  // After an error the statement is reset (bindings kept).
  absl::StatusOr<bool> Step();
  // Steps to completion (for statements without rows), then resets.
  absl::Status Run();
  // Resets the statement and clears its bindings.
  void Reset();

  int64_t ColumnInt64(int col) const;
  double ColumnDouble(int col) const;
  std::string ColumnText(int col) const;
  std::optional<std::string> ColumnOptionalText(int col) const;
  bool ColumnIsNull(int col) const;

 private:
  absl::Status Error(int rc) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string context_;  // "sqlite /path: <sql head>"
  // The first bind error, reported by the next Step().
  int bind_error_ = 0;
};

// --- errors ----------------------------------------------------------------
// Every failing call of this library returns a status whose message reads
// "sqlite <path>: <sql head>: <sqlite message>" and which carries SQLite's
// extended result code as a payload (see SqliteResultCode()). Codes:
//   ALREADY_EXISTS      UNIQUE or PRIMARY KEY constraint failed;
//   FAILED_PRECONDITION another constraint (NOT NULL, CHECK, FOREIGN KEY...);
//   UNAVAILABLE         SQLITE_BUSY / SQLITE_LOCKED after the busy timeout,
//                       cannot open the file, SQLITE_FULL (disk full);
//   INTERNAL            anything else (bad SQL, I/O error, misuse).

// The status for SQLite result code `rc` (extended or primary) with
// `message`. For the wrappers of this library.
absl::Status SqliteStatus(int rc, std::string message);

// SQLite's extended result code carried by `status` (e.g. 2067 =
// SQLITE_CONSTRAINT_UNIQUE), nullopt when the status did not come from here.
std::optional<int> SqliteResultCode(const absl::Status& status);

// True for a UNIQUE or PRIMARY KEY constraint failure (ALREADY_EXISTS):
// "this row is already there" — e.g. a duplicate delivery.
bool IsUniqueViolation(const absl::Status& status);

// True for any constraint failure (UNIQUE, PRIMARY KEY, NOT NULL, CHECK,
// FOREIGN KEY, ...).
bool IsConstraintViolation(const absl::Status& status);

// True for SQLITE_FULL (the disk or the file system's quota is full; mapped
// to UNAVAILABLE: free space and retry).
bool IsDiskFull(const absl::Status& status);

// UNAVAILABLE `message`, recognised by IsDiskFull: for a file the owner of a
// database writes beside it (e.g. the installer's cartridge files) that
// failed with ENOSPC or EDQUOT — the same condition, handled and reported
// as the database's (common/sqlite/write_health.h).
absl::Status DiskFullStatus(std::string message);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_SQLITE_STATEMENT_H_
