#include "services/egress/delivery/push_sender.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "common/base/status_macros.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

PushSender::PushSender(Options options, SendFn send, DoneFn done, FailedFn failed,
                       StoppedDrainingFn stopped_draining)
    : options_(std::move(options)),
      send_(std::move(send)),
      done_(std::move(done)),
      failed_(std::move(failed)),
      stopped_draining_(std::move(stopped_draining)) {}

void PushSender::SetDraining(bool draining) {
  if (draining_.exchange(draining) && !draining && stopped_draining_) stopped_draining_();
}

PushSender::~PushSender() { Stop(); }

absl::Status PushSender::Start() {
  TM_ASSIGN_OR_RETURN(db_, Database::Open(options_.db_path));
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void PushSender::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void PushSender::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

void PushSender::Wait(absl::Duration d, bool wakeable) {
  absl::MutexLock lock(&mu_);
  auto ready = [this, wakeable]()
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || (wakeable && woken_); };
  mu_.AwaitWithTimeout(absl::Condition(&ready), d);
  if (wakeable) woken_ = false;
}

void PushSender::Run() {
  // Rows up to progress.through_id are finished; the row partial_id has its
  // first partial_done destinations finished (the worker may not have
  // recorded it yet when the row is read again).
  OutboxProgress progress;
  const int64_t delivery_limit =
      options_.delivery_limit > 0 ? options_.delivery_limit : options_.batch_limit;
  int row_limit = options_.batch_limit;
  bool stuck = false;  // the last batch failed or was held back
  absl::Duration backoff = options_.backoff_min;
  absl::Time last_error_log = absl::InfinitePast();
  int64_t errors_since_log = 0;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
      woken_ = false;
    }
    absl::StatusOr<std::vector<OutboxRow>> rows =
        EventsDb::ReadOutbox(db_.get(), options_.kind, progress.through_id, row_limit);
    if (!rows.ok()) {
      SetDraining(false);
      LOG_EVERY_N(ERROR, 10) << options_.name << " outbox: " << rows.status().message();
      Wait(backoff, /*wakeable=*/false);
      backoff = std::min(backoff * 2, options_.backoff_max);
      continue;
    }
    if (rows->empty()) {
      SetDraining(false);
      stuck = false;
      Wait(options_.poll, /*wakeable=*/true);
      continue;
    }
    // Busy now, unless the last batch failed or was held back.
    if (!stuck) SetDraining(true);
    if (rows->front().id == progress.partial_id) {
      OutboxRow& first = rows->front();
      first.done = std::clamp<int64_t>(progress.partial_done, first.done,
                                       static_cast<int64_t>(first.destinations.size()));
    }
    // At most delivery_limit deliveries (at least one row); the next read
    // asks for about as many rows as fill that limit.
    int64_t deliveries = 0;
    size_t keep = 0;
    while (keep < rows->size() &&
           (keep == 0 || deliveries + (*rows)[keep].pending() <= delivery_limit)) {
      deliveries += (*rows)[keep].pending();
      ++keep;
    }
    rows->resize(keep);
    row_limit = static_cast<int>(std::clamp<int64_t>(
        delivery_limit * static_cast<int64_t>(keep) / std::max<int64_t>(deliveries, 1), 1,
        options_.batch_limit));

    absl::StatusOr<std::vector<absl::Status>> sent = send_(*rows);
    if (!sent.ok()) {
      failed_attempts_.fetch_add(1);
      ++errors_since_log;
      // One line when sending starts failing, then at most one every 10 s.
      if (!failing_.load() || absl::Now() - last_error_log > absl::Seconds(10)) {
        LOG(WARNING) << options_.name << " outbox: cannot send " << deliveries
                     << " message(s) (failures since last report: " << errors_since_log
                     << "); retrying with backoff: " << sent.status().message();
        last_error_log = absl::Now();
        errors_since_log = 0;
      }
      failing_.store(true);
      SetDraining(false);
      stuck = true;
      std::vector<int64_t> ids;
      ids.reserve(rows->size());
      for (const OutboxRow& r : *rows) ids.push_back(r.id);
      if (failed_) failed_(options_.kind, std::move(ids));
      Wait(backoff, /*wakeable=*/false);
      backoff = std::min(backoff * 2, options_.backoff_max);
      continue;
    }
    if (failing_.exchange(false)) {
      LOG(INFO) << options_.name << " outbox: sending again";
    }
    // The send function may attempt only a prefix of the deliveries (flow
    // control); the rest is read again after a pause, in order.
    const size_t attempted = std::min(sent->size(), static_cast<size_t>(deliveries));
    const OutboxProgress before = progress;
    size_t status_index = 0;
    for (const OutboxRow& r : *rows) {
      if (status_index >= attempted && r.pending() > 0) break;
      int64_t i = r.done;
      for (; i < static_cast<int64_t>(r.destinations.size()) && status_index < attempted;
           ++i, ++status_index) {
        const absl::Status& st = (*sent)[status_index];
        if (st.ok()) {
          delivered_.fetch_add(1);
        } else {
          refused_.fetch_add(1);
          LOG_EVERY_N(ERROR, 100) << options_.name << " outbox: row " << r.id << " to "
                                  << r.destinations[i] << " refused, dropped: " << st.message();
        }
      }
      if (i == static_cast<int64_t>(r.destinations.size())) {
        progress.through_id = r.id;
      } else {
        progress.partial_id = r.id;
        progress.partial_done = i;
        break;
      }
    }
    progress.Normalize();
    if (!(progress == before)) done_(options_.kind, progress);
    stuck = attempted < static_cast<size_t>(deliveries);
    SetDraining(!stuck);
    if (stuck) {
      held_.fetch_add(1);
      Wait(backoff, /*wakeable=*/false);
      backoff = std::min(backoff * 2, options_.hold_max);
    } else {
      backoff = options_.backoff_min;
    }
  }
}

}  // namespace teleclaude::mesh
