// Moves WAL checkpoints off the writer's commit path.
//
// With SQLite's default auto-checkpoint, the commit that finds the WAL above
// 1000 pages copies the WAL into the database and fsyncs both files before it
// returns — a stall of several milliseconds in the middle of a stream of
// small commits (it was most of the mesh's p99 latency). A WalCheckpointer
// owns a second connection and a thread; the writer's connection reports its
// WAL size after every commit (Database installs the sqlite3_wal_hook) and the
// thread runs PASSIVE checkpoints, which never block the writer or readers.
// SQLite restarts the WAL only when a write begins after a complete
// checkpoint, which a steady stream of commits never allows; so when the WAL
// reaches `hard_limit_pages` the writer checkpoints itself (one stall per
// hard limit instead of one per threshold), and the WAL stays bounded.
//
// Thread-safe: Notify may be called from any thread.
#ifndef TELECLAUDE_MESH_COMMON_SQLITE_WAL_CHECKPOINTER_H_
#define TELECLAUDE_MESH_COMMON_SQLITE_WAL_CHECKPOINTER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

struct sqlite3;

namespace teleclaude::mesh {

class WalCheckpointer {
 public:
  struct Options {
    // A checkpoint starts once the WAL holds this many pages (SQLite's own
    // auto-checkpoint threshold).
    int threshold_pages = 1000;
    // WAL length at which the writer checkpoints on its own commit path, so
    // the WAL restarts (a rare stall instead of one every threshold_pages).
    int hard_limit_pages = 16000;
  };

  // Opens the checkpointing connection to `path` (which must exist and be in
  // WAL mode) and starts the thread. UNAVAILABLE when the file cannot be
  // opened.
  static absl::StatusOr<std::unique_ptr<WalCheckpointer>> Start(const std::string& path,
                                                                Options options);
  // Stops the thread (a running checkpoint finishes first) and closes the
  // connection.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // The writer's WAL holds `wal_pages` frames after a commit. Wakes the
  // thread once threshold_pages frames were added since the last checkpoint
  // (a WAL that SQLite restarted counts from zero). Returns true when the WAL
  // holds hard_limit_pages frames: the writer should then checkpoint itself,
  // so that the WAL can start over (it cannot while commits keep arriving
  // during background checkpoints). Cheap below the threshold.
  bool Notify(int wal_pages);
  // The writer checkpointed itself up to `frames`.
  void Backfilled(int frames) {
    if (frames > 0) backfilled_.store(frames, std::memory_order_relaxed);
    holding_.store(false, std::memory_order_relaxed);
  }

  const Options& options() const { return options_; }
  // Checkpoints run and failed so far (failures are logged once per minute).
  int64_t checkpoints() const { return checkpoints_.load(); }
  int64_t failures() const { return failures_.load(); }

 private:
  WalCheckpointer(sqlite3* db, std::string path, Options options);
  void Run();

  sqlite3* const db_;
  const std::string path_;
  const Options options_;
  std::atomic<int64_t> checkpoints_{0};
  std::atomic<int64_t> failures_{0};
  // WAL frames already copied back by the last checkpoint.
  std::atomic<int> backfilled_{0};
  // Set at the hard limit: the thread starts no checkpoint until the writer
  // has run its own (they would only make each other busy).
  std::atomic<bool> holding_{false};
  absl::Mutex mu_;
  bool wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_SQLITE_WAL_CHECKPOINTER_H_
