#include "common/sqlite/database.h"

#include <sqlite3.h>

#include <algorithm>
#include <iterator>
#include <utility>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/sqlite/transaction.h"

namespace teleclaude::mesh {

namespace {
// The head of a statement, for error messages.
std::string SqlHead(std::string_view sql) {
  size_t start = sql.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return std::string();
  sql.remove_prefix(start);
  std::string head(sql.substr(0, 60));
  for (char& c : head) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  }
  if (sql.size() > 60) head += "...";
  return head;
}
}  // namespace

Database::Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

Database::~Database() {
  cache_.clear();  // finalize statements before closing
  sqlite3_close_v2(db_);
}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                         const DatabaseOptions& options) {
  static constexpr std::string_view kSynchronous[] = {"OFF", "NORMAL", "FULL", "EXTRA"};
  if (std::find(std::begin(kSynchronous), std::end(kSynchronous), options.synchronous) ==
      std::end(kSynchronous)) {
    return absl::InvalidArgumentError(Cat("sqlite ", path, ": synchronous \"", options.synchronous,
                                          "\" is not one of OFF, NORMAL, FULL, EXTRA"));
  }
  sqlite3* handle = nullptr;
  const int mode =
      options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &handle, mode | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg =
        Cat("sqlite ", path,
            ": cannot open: ", handle != nullptr ? sqlite3_errmsg(handle) : sqlite3_errstr(rc),
            options.read_only ? " (read-only: the file must exist)"
                              : " (the directory must exist and be writable)");
    sqlite3_close_v2(handle);
    return absl::UnavailableError(msg);
  }
  std::unique_ptr<Database> db(new Database(handle, path));
  sqlite3_busy_timeout(handle, static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  sqlite3_extended_result_codes(handle, 1);
  if (options.read_only) return db;
  if (options.wal) {
    TM_ASSIGN_OR_RETURN(Statement wal, db->Prepare("PRAGMA journal_mode=WAL"));
    TM_ASSIGN_OR_RETURN(bool row, wal.Step());
    std::string mode = row ? wal.ColumnText(0) : "";
    // ":memory:" databases stay "memory"; a file that refuses WAL (some
    // network filesystems) would lose the one-writer/many-readers model.
    if (mode != "wal" && mode != "memory") {
      return absl::FailedPreconditionError(Cat("sqlite ", path,
                                               ": cannot enable WAL (journal_mode is \"", mode,
                                               "\"); put the database on a local filesystem"));
    }
  }
  TM_RETURN_IF_ERROR(db->Exec(Cat("PRAGMA synchronous=", options.synchronous)));
  TM_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  if (options.wal && options.journal_size_limit >= 0) {
    TM_RETURN_IF_ERROR(db->Exec(Cat("PRAGMA journal_size_limit=", options.journal_size_limit)));
  }
  // Replaces SQLite's own hook (the auto-checkpoint) with one that counts.
  if (!options.auto_checkpoint) sqlite3_wal_hook(handle, &Database::OnWalCommit, db.get());
  return db;
}

int Database::OnWalCommit(void* self, sqlite3* /*db*/, const char* /*name*/, int frames) {
  static_cast<Database*>(self)->wal_frames_ = frames;
  return SQLITE_OK;
}

absl::StatusOr<int> Database::Checkpoint(CheckpointMode mode) {
  int log = 0, copied = 0;
  int rc = sqlite3_wal_checkpoint_v2(
      db_, nullptr,
      mode == CheckpointMode::kTruncate ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE,
      &log, &copied);
  if (rc != SQLITE_OK) {
    return SqliteStatus(sqlite3_extended_errcode(db_),
                        Cat("sqlite ", path_, ": checkpoint: ", sqlite3_errmsg(db_)));
  }
  // Frames still in the WAL (all of them when a reader held the checkpoint
  // back); the next commit's count replaces this.
  wal_frames_ = std::max(0, log - copied);
  return copied;
}

absl::Status Database::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return absl::OkStatus();
  // sqlite3_exec returns the primary code; the handle has the extended one.
  int extended = sqlite3_extended_errcode(db_);
  if ((extended & 0xff) == (rc & 0xff)) rc = extended;
  std::string msg =
      Cat("sqlite ", path_, ": ", SqlHead(sql), ": ", err != nullptr ? err : sqlite3_errstr(rc));
  sqlite3_free(err);
  return SqliteStatus(rc, std::move(msg));
}

absl::StatusOr<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  std::string context = Cat("sqlite ", path_, ": ", SqlHead(sql));
  if (rc != SQLITE_OK) {
    return SqliteStatus(sqlite3_extended_errcode(db_),
                        Cat(context, ": cannot prepare: ", sqlite3_errmsg(db_)));
  }
  return Statement(db_, stmt, std::move(context));
}

absl::StatusOr<Statement*> Database::Cached(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  TM_ASSIGN_OR_RETURN(Statement stmt, Prepare(sql));
  auto owned = std::make_unique<Statement>(std::move(stmt));
  Statement* raw = owned.get();
  cache_.emplace(std::string(sql), std::move(owned));
  return raw;
}

int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int64_t Database::Changes() const { return sqlite3_changes64(db_); }

absl::StatusOr<int> Database::UserVersion() {
  TM_ASSIGN_OR_RETURN(Statement stmt, Prepare("PRAGMA user_version"));
  TM_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::InternalError(Cat("sqlite ", path_, ": PRAGMA user_version: no row"));
  return static_cast<int>(stmt.ColumnInt64(0));
}

absl::Status Database::Migrate(const std::vector<Migration>& migrations) {
  // Check the whole list before touching the file.
  int previous = 0;
  for (const Migration& m : migrations) {
    if (m.version <= previous) {
      return absl::InternalError(Cat("sqlite ", path_, ": migrations out of order at version ",
                                     m.version, " (after ", previous,
                                     "); versions must start above 0 and increase"));
    }
    previous = m.version;
  }
  TM_ASSIGN_OR_RETURN(int current, UserVersion());
  int latest = migrations.empty() ? 0 : migrations.back().version;
  if (current > latest) {
    return absl::FailedPreconditionError(
        Cat("sqlite ", path_, ": schema version ", current, " is newer than this program knows (",
            latest, "); it was written by a newer release — upgrade, or use another data_dir"));
  }
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    TM_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(this));
    absl::Status s = Exec(m.sql);
    if (!s.ok()) {
      absl::Status annotated(s.code(), Cat("migration to version ", m.version, ": ", s.message()));
      s.ForEachPayload([&annotated](absl::string_view url, const absl::Cord& payload) {
        annotated.SetPayload(url, payload);
      });
      return annotated;
    }
    TM_RETURN_IF_ERROR(Exec(Cat("PRAGMA user_version=", m.version)));
    TM_RETURN_IF_ERROR(tx.Commit());
  }
  return absl::OkStatus();
}

}  // namespace teleclaude::mesh
