// Checkpoints a WAL database from a connection and a thread of its own, so
// the writer never waits for a checkpoint's fsyncs (issue 19: "checkpoints
// that never stall the writer"; doc/events-db.md "Checkpoints").
//
// The writer opens its database without SQLite's auto-checkpoint and tells
// the checkpointer after each commit how many pages the WAL holds
// (Committed(Database::wal_frames())). Once that reaches `pages`, the
// checkpointer's thread runs a PASSIVE checkpoint: it copies what it can
// into the database file and fsyncs it, without taking the write lock, so
// the writer's next commits append to the WAL meanwhile. When everything was
// copied, the writer's next transaction starts the WAL from its beginning,
// and `journal_size_limit` (DatabaseOptions) cuts the file back. When the
// writer committed meanwhile, the next try waits for `retry_pages` more.
//
// Thread-safe. The database file must outlive the checkpointer.
#ifndef TELECLAUDE_MESH_COMMON_SQLITE_WAL_CHECKPOINTER_H_
#define TELECLAUDE_MESH_COMMON_SQLITE_WAL_CHECKPOINTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/sqlite/database.h"

namespace teleclaude::mesh {

class WalCheckpointer {
 public:
  struct Options {
    std::string name;  // for logs: "events.db"
    std::string path;  // the database file (it must exist, in WAL mode)
    int pages = 1000;  // checkpoint once the WAL holds this many pages
    // A checkpoint that could not copy everything (the writer committed
    // meanwhile) is tried again once the writer has appended this many more
    // pages (0: pages / 2), not after its next commit: chasing the WAL's end
    // commit by commit cost two fsyncs per one or two small commits (a
    // quarter of egress's CPU at 1,000 events/s, issue 19).
    int retry_pages = 0;
    // The backstop: while the writer never pauses (a backlog), a checkpoint
    // running beside it never catches up with the WAL's end, so the WAL
    // never restarts. Once it holds this many pages the writer checkpoints
    // itself (PASSIVE on its own connection: nobody appends meanwhile, so it
    // completes and the next transaction restarts the WAL).
    int backstop_pages = 4000;
  };
  struct Stats {
    int64_t checkpoints = 0;   // PASSIVE checkpoints run
    int64_t pages_copied = 0;  // into the database file, in all
    int64_t failures = 0;      // checkpoints that failed (not: busy with a backstop)
    absl::Duration longest;    // the slowest checkpoint
    int64_t backstops = 0;     // checkpoints the writer ran itself (backstop_pages)
  };

  // Opens the second connection and starts the thread. Errors: the
  // connection's (UNAVAILABLE when the file cannot be opened, ...).
  static absl::StatusOr<std::unique_ptr<WalCheckpointer>> Start(Options options);
  ~WalCheckpointer();  // Stop()
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // After a commit of the writer on `writer` (its connection, opened without
  // auto-checkpoint): wakes the thread when the WAL holds at least `pages`
  // (never waiting for it); at `backstop_pages` checkpoints on `writer`
  // itself. REQUIRES: the writer's thread, no transaction open on `writer`.
  void Committed(Database* writer);
  // Waits for a checkpoint in progress, then ends the thread. Idempotent.
  void Stop();

  Stats stats() const;

 private:
  WalCheckpointer(Options options, std::unique_ptr<Database> db);
  void Run();

  const Options options_;
  const std::unique_ptr<Database> db_;  // the thread's only
  std::thread thread_;

  mutable absl::Mutex mu_;
  int wal_frames_ ABSL_GUARDED_BY(mu_) = 0;
  // The WAL's pages when the last checkpoint started (0 once the WAL has
  // restarted): the next is due `retry_pages` beyond.
  int attempted_at_ ABSL_GUARDED_BY(mu_) = 0;
  bool due_ ABSL_GUARDED_BY(mu_) = false;  // a commit reached `pages` since the last checkpoint
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_SQLITE_WAL_CHECKPOINTER_H_
