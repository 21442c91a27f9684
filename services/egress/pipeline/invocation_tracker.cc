#include "services/egress/pipeline/invocation_tracker.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "common/base/strings.h"
#include "common/envelope/timestamp_codec.h"
#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

std::string IsoUtc(absl::Time t) {
  Timestamp ts;
  absl::TimeZone utc = absl::UTCTimeZone();
  absl::TimeZone::CivilInfo ci = utc.At(t);
  ts.civil = ci.cs;
  ts.micros = static_cast<int32_t>(absl::ToInt64Microseconds(ci.subsecond));
  ts.utc_offset_seconds = 0;
  return FormatTimestampMesh(ts);
}

}  // namespace

InvocationTracker::InvocationTracker(Options options, SendFn send)
    : options_(std::move(options)),
      send_(std::move(send)),
      batch_prefix_(Cat(options_.computer_name, ":", absl::ToUnixMicros(absl::Now()), ":")) {}

InvocationTracker::~InvocationTracker() { Stop(); }

void InvocationTracker::Start() {
  thread_ = std::thread([this] { Run(); });
}

void InvocationTracker::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void InvocationTracker::Add(const std::vector<Invocation>& invocations) {
  if (invocations.empty()) return;
  absl::MutexLock lock(&mu_);
  for (const Invocation& inv : invocations) {
    Aggregate& a = pending_[inv.cartridge_name];
    ++a.count;
    a.last = std::max(a.last, inv.at);
  }
  pending_count_ += static_cast<int64_t>(invocations.size());
}

int64_t InvocationTracker::unsent() const {
  absl::MutexLock lock(&mu_);
  return pending_count_ + in_flight_count_;
}

void InvocationTracker::SealBatchLocked() {
  if (in_flight_.has_value() || pending_.empty()) return;
  v1::RecordInvocationsRequest batch;
  batch.set_batch_id(Cat(batch_prefix_, next_batch_++));
  for (const auto& [name, agg] : pending_) {
    v1::InvocationCount* c = batch.add_counts();
    c->set_cartridge_name(name);
    c->set_count(agg.count);
    c->set_last_invoked_at(IsoUtc(agg.last));
  }
  in_flight_ = std::move(batch);
  in_flight_count_ = pending_count_;
  pending_.clear();
  pending_count_ = 0;
}

absl::Status InvocationTracker::SendInFlight() {
  absl::MutexLock send_lock(&send_mu_);
  v1::RecordInvocationsRequest batch;
  {
    absl::MutexLock lock(&mu_);
    SealBatchLocked();
    if (!in_flight_.has_value()) return absl::OkStatus();
    batch = *in_flight_;
  }
  absl::Status s = send_(batch);
  if (s.ok()) {
    absl::MutexLock lock(&mu_);
    in_flight_.reset();
    in_flight_count_ = 0;
    batches_sent_.fetch_add(1);
  }
  return s;
}

void InvocationTracker::Run() {
  absl::Duration backoff = options_.backoff_min;
  bool failing = false;
  absl::Time last_log = absl::InfinitePast();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || pending_count_ >= options_.flush_count;
      };
      mu_.AwaitWithTimeout(absl::Condition(&ready), failing ? backoff : options_.flush_interval);
      if (stop_) return;
    }
    absl::Status s = SendInFlight();
    if (s.ok()) {
      if (failing) LOG(INFO) << "invocation batches delivered to the installer again";
      failing = false;
      backoff = options_.backoff_min;
      continue;
    }
    if (!failing || absl::Now() - last_log > absl::Seconds(10)) {
      LOG(WARNING) << "RecordInvocations failed (" << unsent()
                   << " invocation(s) kept, retrying with backoff): " << s.message();
      last_log = absl::Now();
    }
    failing = true;
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

absl::Status InvocationTracker::Flush() {
  // The unsent batch, then what accumulated since.
  for (int i = 0; i < 2; ++i) {
    absl::Status s = SendInFlight();
    if (!s.ok()) {
      absl::MutexLock lock(&mu_);
      std::string lost;
      auto describe = [&lost](const std::string& name, int64_t n) {
        lost += Cat(lost.empty() ? "" : ", ", name, "=", n);
      };
      if (in_flight_.has_value()) {
        for (const auto& c : in_flight_->counts()) describe(c.cartridge_name(), c.count());
      }
      for (const auto& [name, agg] : pending_) describe(name, agg.count);
      LOG(ERROR) << "shutdown: invocation counts not delivered to the installer: " << lost << ": "
                 << s.message();
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace teleclaude::mesh
