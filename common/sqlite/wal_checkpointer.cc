#include "common/sqlite/wal_checkpointer.h"

#include <sqlite3.h>

#include <utility>

#include "common/base/strings.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

absl::StatusOr<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(const std::string& path,
                                                                        Options options) {
  sqlite3* handle = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = Cat("sqlite ", path, ": cannot open the checkpoint connection: ",
                          handle != nullptr ? sqlite3_errmsg(handle) : sqlite3_errstr(rc));
    sqlite3_close_v2(handle);
    return absl::UnavailableError(msg);
  }
  // The checkpointer never waits for a lock: a busy database is checkpointed
  // at the next notification.
  sqlite3_busy_timeout(handle, 0);
  // A connection learns the journal mode when it first reads the file; until
  // then a checkpoint is a no-op (it reports -1 frames).
  if (sqlite3_exec(handle, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    std::string msg =
        Cat("sqlite ", path,
            ": the checkpoint connection cannot read the file: ", sqlite3_errmsg(handle));
    sqlite3_close_v2(handle);
    return absl::UnavailableError(msg);
  }
  std::unique_ptr<WalCheckpointer> c(new WalCheckpointer(handle, path, options));
  c->thread_ = std::thread([raw = c.get()] { raw->Run(); });
  return c;
}

WalCheckpointer::WalCheckpointer(sqlite3* db, std::string path, Options options)
    : db_(db), path_(std::move(path)), options_(options) {}

WalCheckpointer::~WalCheckpointer() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  sqlite3_close_v2(db_);
}

bool WalCheckpointer::Notify(int wal_pages) {
  // SQLite restarts the WAL from its start only when a write begins after a
  // checkpoint copied every frame; under a steady stream of commits the
  // background checkpoint never quite catches up, so at the hard limit the
  // writer must checkpoint (and restart) itself.
  if (wal_pages >= options_.hard_limit_pages) {
    holding_.store(true, std::memory_order_relaxed);
    return true;
  }
  int backfilled = backfilled_.load(std::memory_order_relaxed);
  if (wal_pages < backfilled) {
    // Fewer frames than were backfilled: the WAL was restarted; nothing of
    // the new one is checkpointed yet.
    backfilled_.compare_exchange_strong(backfilled, 0, std::memory_order_relaxed);
    backfilled = 0;
  }
  if (wal_pages - backfilled < options_.threshold_pages) return false;
  absl::MutexLock lock(&mu_);
  wanted_ = true;
  return false;
}

void WalCheckpointer::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || wanted_; };
      mu_.Await(absl::Condition(&ready));
      if (stop_) return;
      wanted_ = false;
    }
    if (holding_.load(std::memory_order_relaxed)) continue;
    int log_frames = 0, done_frames = 0;
    int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                       &done_frames);
    if (rc == SQLITE_OK || rc == SQLITE_BUSY) {
      checkpoints_.fetch_add(1);
      if (done_frames > 0) backfilled_.store(done_frames, std::memory_order_relaxed);
    } else {
      failures_.fetch_add(1);
      LOG_EVERY_T(WARNING, 60) << "sqlite " << path_
                               << ": background WAL checkpoint: " << sqlite3_errmsg(db_)
                               << " (the writer checkpoints past " << options_.hard_limit_pages
                               << " pages)";
    }
  }
}

}  // namespace teleclaude::mesh
