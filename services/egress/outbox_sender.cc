#include "services/egress/outbox_sender.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "common/base/status_macros.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

OutboxSender::OutboxSender(Options options, SendFn send, DoneFn done, FailedFn failed)
    : options_(std::move(options)),
      send_(std::move(send)),
      done_(std::move(done)),
      failed_(std::move(failed)) {}

OutboxSender::~OutboxSender() { Stop(); }

absl::Status OutboxSender::Start() {
  TM_ASSIGN_OR_RETURN(db_, Database::Open(options_.db_path));
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void OutboxSender::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void OutboxSender::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

void OutboxSender::Wait(absl::Duration d, bool wakeable) {
  absl::MutexLock lock(&mu_);
  auto ready = [this, wakeable]()
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || (wakeable && woken_); };
  mu_.AwaitWithTimeout(absl::Condition(&ready), d);
  if (wakeable) woken_ = false;
}

void OutboxSender::Run() {
  int64_t cursor = 0;  // rows up to here were delivered or refused
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
        EventsDb::ReadOutbox(db_.get(), options_.kind, cursor, options_.batch_limit);
    if (!rows.ok()) {
      LOG_EVERY_N(ERROR, 10) << options_.name << " outbox: " << rows.status().message();
      Wait(backoff, /*wakeable=*/false);
      backoff = std::min(backoff * 2, options_.backoff_max);
      continue;
    }
    if (rows->empty()) {
      Wait(options_.poll, /*wakeable=*/true);
      continue;
    }
    absl::StatusOr<std::vector<absl::Status>> sent = send_(*rows);
    if (!sent.ok()) {
      failed_attempts_.fetch_add(1);
      ++errors_since_log;
      // One line when sending starts failing, then at most one every 10 s.
      if (!failing_.load() || absl::Now() - last_error_log > absl::Seconds(10)) {
        LOG(WARNING) << options_.name << " outbox: cannot send " << rows->size()
                     << " row(s) (failures since last report: " << errors_since_log
                     << "); retrying with backoff: " << sent.status().message();
        last_error_log = absl::Now();
        errors_since_log = 0;
      }
      failing_.store(true);
      std::vector<int64_t> ids;
      ids.reserve(rows->size());
      for (const OutboxRow& r : *rows) ids.push_back(r.id);
      if (failed_) failed_(std::move(ids));
      Wait(backoff, /*wakeable=*/false);
      backoff = std::min(backoff * 2, options_.backoff_max);
      continue;
    }
    if (failing_.exchange(false)) {
      LOG(INFO) << options_.name << " outbox: sending again";
    }
    // The send function may attempt only a prefix of the rows (flow
    // control); the rest is read again after a pause, in order.
    size_t attempted = std::min(sent->size(), rows->size());
    std::vector<int64_t> ids;
    ids.reserve(attempted);
    for (size_t i = 0; i < attempted; ++i) {
      const OutboxRow& r = (*rows)[i];
      ids.push_back(r.id);
      if (!(*sent)[i].ok()) {
        refused_.fetch_add(1);
        LOG_EVERY_N(ERROR, 100) << options_.name << " outbox: row " << r.id << " to "
                                << r.destination << " refused, dropped: " << (*sent)[i].message();
      } else {
        delivered_.fetch_add(1);
      }
    }
    if (attempted > 0) {
      cursor = (*rows)[attempted - 1].id;
      done_(options_.kind, std::move(ids));
    }
    if (attempted < rows->size()) {
      held_.fetch_add(1);
      Wait(backoff, /*wakeable=*/false);
      backoff = std::min(backoff * 2, options_.hold_max);
    } else {
      backoff = options_.backoff_min;
    }
  }
}

}  // namespace teleclaude::mesh
