// A SQLite connection with the settings every database of the project uses
// (WAL, busy timeout, foreign keys), a statement cache and versioned
// migrations. Schemas: doc/.
#ifndef TELECLAUDE_MESH_COMMON_SQLITE_DATABASE_H_
#define TELECLAUDE_MESH_COMMON_SQLITE_DATABASE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/sqlite/statement.h"

struct sqlite3;

namespace teleclaude::mesh {

struct DatabaseOptions {
  absl::Duration busy_timeout = absl::Seconds(5);
  bool wal = true;
  std::string synchronous = "NORMAL";  // with WAL: durable at checkpoint, never corrupt
  // With WAL: SQLite checkpoints by itself inside the COMMIT that takes the
  // WAL past 1000 pages (its default). False: it never does; the owner calls
  // Checkpoint() when it suits it (see wal_frames()).
  bool auto_checkpoint = true;
  // Opens an existing database read-only (SQLITE_OPEN_READONLY): nothing is
  // created or migrated, the journal mode is left as the writer set it, and
  // every write fails. For a process that reads a database another process
  // owns (egress reading ingress's membership.db); the directory must be
  // writable for WAL's shared-memory file, as for any WAL reader.
  bool read_only = false;
  // With WAL: PRAGMA journal_size_limit — when the WAL restarts after a
  // complete checkpoint, its file is cut back to this size, so a burst (or a
  // disk-full episode) does not leave a large WAL behind. -1 = SQLite's
  // default (no limit).
  int64_t journal_size_limit = 4 << 20;
};

// sqlite3_wal_checkpoint_v2 modes the project uses.
enum class CheckpointMode {
  // Copies what it can without waiting for anyone; never blocks a writer.
  kPassive,
  // Waits (busy timeout) for the writer and readers, copies everything and
  // truncates the WAL file to zero bytes (disk full: give the space back).
  kTruncate,
};

// One schema step: applied once, in version order, inside its own transaction.
struct Migration {
  int version;
  std::string sql;
};

// A connection. Thread-compatible: one thread at a time (the project keeps one
// writer per database).
class Database {
 public:
  // Opens (creating when missing) the database file; the parent directory must
  // exist (the caller creates it). Sets WAL, busy_timeout, synchronous and
  // foreign_keys=ON. With options.read_only the file must exist (UNAVAILABLE
  // otherwise) and only busy_timeout is set. Errors: UNAVAILABLE when the file cannot be opened,
  // FAILED_PRECONDITION when WAL cannot be enabled, INVALID_ARGUMENT for a bad
  // `synchronous`. Error mapping of every other call: see statement.h.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& path,
                                                        const DatabaseOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }

  // Runs one or more statements (';'-separated), discarding rows.
  absl::Status Exec(std::string_view sql);
  // A new prepared statement.
  absl::StatusOr<Statement> Prepare(std::string_view sql);
  // A prepared statement kept for the life of the connection (reset, bindings
  // cleared) — for hot paths. The pointer stays valid until the Database dies.
  absl::StatusOr<Statement*> Cached(std::string_view sql);

  int64_t LastInsertRowId() const;
  int64_t Changes() const;

  // Applies every migration whose version is above PRAGMA user_version, in
  // order, each in one transaction that also sets user_version. Refuses with
  // FAILED_PRECONDITION a database whose user_version is newer than the last
  // migration (written by a newer release).
  absl::Status Migrate(const std::vector<Migration>& migrations);
  absl::StatusOr<int> UserVersion();

  sqlite3* handle() { return db_; }

  // Pages in the WAL after the last commit of this connection (0 before the
  // first); counted only with DatabaseOptions::auto_checkpoint false.
  int wal_frames() const { return wal_frames_; }
  // A PASSIVE checkpoint: copies what it can of the WAL into the database
  // file without waiting for other connections; the next write transaction
  // then starts the WAL from its beginning. Returns the pages copied.
  absl::StatusOr<int> Checkpoint() { return Checkpoint(CheckpointMode::kPassive); }
  // The same in `mode`. REQUIRES: no transaction open on this connection.
  absl::StatusOr<int> Checkpoint(CheckpointMode mode);

 private:
  Database(sqlite3* db, std::string path);
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int frames);

  sqlite3* db_;
  const std::string path_;
  int wal_frames_ = 0;
  // Looked up by string_view (no allocation per hot-path call).
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
  };
  std::unordered_map<std::string, std::unique_ptr<Statement>, SqlHash, std::equal_to<>> cache_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_SQLITE_DATABASE_H_
