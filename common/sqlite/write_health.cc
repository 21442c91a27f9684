#include "common/sqlite/write_health.h"

#include <utility>

#include "common/base/strings.h"
#include "common/sqlite/statement.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

WriteHealth::WriteHealth(std::string name, const Clock* clock)
    : name_(std::move(name)), clock_(clock) {}

void WriteHealth::Committed() {
  absl::MutexLock lock(&mu_);
  if (!full_) return;
  LOG(WARNING) << name_ << ": writing again after the disk was full since "
               << absl::FormatTime(since_) << " (" << failures_ << " failed transactions)";
  full_ = false;
  failures_ = 0;
  last_error_.clear();
}

bool WriteHealth::Failed(const absl::Status& status) {
  if (!IsDiskFull(status)) return false;
  absl::MutexLock lock(&mu_);
  if (!full_) {
    full_ = true;
    since_ = clock_->Now();
    LOG(ERROR) << name_ << ": the disk is full: " << status.message()
               << " (checkpointing and truncating the WAL, retrying with backoff; nothing is "
                  "acknowledged until a commit succeeds)";
  }
  ++failures_;
  last_error_ = std::string(status.message());
  return true;
}

absl::Status WriteHealth::Check() const {
  absl::MutexLock lock(&mu_);
  if (!full_) return absl::OkStatus();
  return absl::ResourceExhaustedError(
      Cat(name_, ": disk full since ",
          absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", since_, absl::UTCTimeZone()), " (", failures_,
          " failed transactions; the WAL is truncated, writes are retried with backoff and "
          "nothing is acknowledged until one commits; free space to recover): ",
          last_error_));
}

bool WriteHealth::disk_full() const {
  absl::MutexLock lock(&mu_);
  return full_;
}

}  // namespace teleclaude::mesh
