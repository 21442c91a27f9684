#include "common/sqlite/wal_checkpointer.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

absl::StatusOr<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(Options options) {
  // Never committing, this connection needs no checkpoint hook of its own.
  absl::StatusOr<std::unique_ptr<Database>> db =
      Database::Open(options.path, DatabaseOptions{.auto_checkpoint = false});
  if (!db.ok()) return db.status();
  std::unique_ptr<WalCheckpointer> c(new WalCheckpointer(std::move(options), *std::move(db)));
  c->thread_ = std::thread([raw = c.get()] { raw->Run(); });
  return c;
}

WalCheckpointer::WalCheckpointer(Options options, std::unique_ptr<Database> db)
    : options_(std::move(options)), db_(std::move(db)) {}

WalCheckpointer::~WalCheckpointer() { Stop(); }

void WalCheckpointer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void WalCheckpointer::Committed(Database* writer) {
  const int wal_frames = writer->wal_frames();
  if (wal_frames >= options_.backstop_pages) {
    absl::StatusOr<int> copied = writer->Checkpoint(CheckpointMode::kPassive);
    absl::MutexLock lock(&mu_);
    if (copied.ok()) {
      ++stats_.backstops;
      stats_.pages_copied += *copied;
    } else {
      // SQLITE_BUSY when the thread's checkpoint runs: it goes on there.
      VLOG(1) << options_.name << ": backstop checkpoint: " << copied.status().message();
    }
    return;
  }
  absl::MutexLock lock(&mu_);
  wal_frames_ = wal_frames;
  if (wal_frames < attempted_at_) attempted_at_ = 0;  // the WAL restarted
  const int retry = options_.retry_pages > 0 ? options_.retry_pages : options_.pages / 2;
  if (wal_frames >= options_.pages && (attempted_at_ == 0 || wal_frames >= attempted_at_ + retry)) {
    due_ = true;
  }
}

WalCheckpointer::Stats WalCheckpointer::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void WalCheckpointer::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || due_; };
      mu_.Await(absl::Condition(&ready));
      if (stop_) return;
      // A checkpoint that could not copy everything (the writer appended
      // meanwhile) is run again once the WAL has grown by retry_pages.
      due_ = false;
      attempted_at_ = wal_frames_;
    }
    const absl::Time start = absl::Now();
    absl::StatusOr<int> copied = db_->Checkpoint(CheckpointMode::kPassive);
    const absl::Duration took = absl::Now() - start;
    absl::MutexLock lock(&mu_);
    if (!copied.ok() && copied.status().code() == absl::StatusCode::kUnavailable) {
      // SQLITE_BUSY: the writer's backstop checkpoint runs; not a failure.
      continue;
    }
    if (!copied.ok()) {
      ++stats_.failures;
      // Harmless for the data (the WAL keeps it); tried again once the WAL
      // has grown by retry_pages.
      LOG_EVERY_N(WARNING, 100) << options_.name << ": " << copied.status().message();
      continue;
    }
    ++stats_.checkpoints;
    stats_.pages_copied += *copied;
    stats_.longest = std::max(stats_.longest, took);
  }
}

}  // namespace teleclaude::mesh
