#include "common/grpc/health_monitor.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpc/readiness_service.h"
#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

std::string IsoTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

std::string Seconds(absl::Duration d) { return absl::StrCat(absl::ToInt64Seconds(d), " s"); }

}  // namespace

HealthMonitor::HealthMonitor(HealthMonitorOptions options)
    : options_(std::move(options)), service_(std::make_unique<ReadinessService>(this)) {}

HealthMonitor::~HealthMonitor() { Stop(); }

void HealthMonitor::Add(std::unique_ptr<ReadinessProbe> probe, absl::Duration grace) {
  CHECK(probe != nullptr);
  absl::MutexLock check(&check_mu_);
  absl::MutexLock lock(&mu_);
  CHECK(!thread_.joinable()) << "HealthMonitor::Add after Start";
  probes_.push_back({std::move(probe), grace});
  states_.emplace_back();
}

grpc::Service* HealthMonitor::service() { return service_.get(); }

void HealthMonitor::CheckNow() { CheckAll(); }

void HealthMonitor::Start(GrpcServer* server) {
  CHECK(server != nullptr);
  {
    absl::MutexLock lock(&mu_);
    CHECK(server_ == nullptr) << "HealthMonitor::Start twice";
    server_ = server;
    applied_serving_ = ServingLocked(absl::Now());
    server_->SetServing(applied_serving_);
  }
  thread_ = std::thread([this] { Run(); });
}

void HealthMonitor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void HealthMonitor::Run() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.interval)) return;
    }
    CheckAll();
  }
}

void HealthMonitor::CheckAll() {
  absl::MutexLock check(&check_mu_);
  for (size_t i = 0; i < probes_.size(); ++i) {
    const Entry& entry = probes_[i];
    const absl::Time started = absl::Now();
    absl::Status status = entry.probe->Check();
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    State& s = states_[i];
    s.checked = true;
    s.round_trip = now - started;
    s.checked_at = now;
    const std::string& name = entry.probe->name();
    if (status.ok()) {
      if (s.failing_since != absl::InfinitePast()) {
        if (s.warned) {
          LOG(INFO) << options_.program << ": " << name << " (" << entry.probe->target()
                    << ") works again after " << Seconds(now - s.failing_since);
        } else {
          VLOG(1) << name << " works (after " << (now - s.failing_since) << ")";
        }
      }
      s.failing_since = absl::InfinitePast();
      s.warned = false;
    } else {
      if (s.failing_since == absl::InfinitePast()) {
        s.failing_since = now;
        VLOG(1) << name << " check failed (grace " << entry.grace << "): " << status.message();
      }
      if (!s.warned && now - s.failing_since >= entry.grace) {
        s.warned = true;
        LOG(WARNING) << options_.program << ": " << name << " (" << entry.probe->target()
                     << ") failing"
                     << (entry.grace > absl::ZeroDuration()
                             ? absl::StrCat(" for ", Seconds(now - s.failing_since))
                             : std::string())
                     << ": " << status.message() << "; reporting NOT_SERVING until it works";
      }
    }
    s.last = std::move(status);
  }
  absl::MutexLock lock(&mu_);
  if (server_ == nullptr) return;
  const bool serving = ServingLocked(absl::Now());
  if (serving == applied_serving_) return;
  applied_serving_ = serving;
  server_->SetServing(serving);
  if (serving) LOG(INFO) << options_.program << ": SERVING again";
}

bool HealthMonitor::ServingLocked(absl::Time now) const {
  for (size_t i = 0; i < probes_.size(); ++i) {
    const State& s = states_[i];
    if (s.failing_since != absl::InfinitePast() && now - s.failing_since >= probes_[i].grace) {
      return false;
    }
  }
  return true;
}

bool HealthMonitor::serving() const {
  absl::MutexLock lock(&mu_);
  return ServingLocked(absl::Now());
}

v1::GetReadinessResponse HealthMonitor::Report() const {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  v1::GetReadinessResponse out;
  out.set_serving(ServingLocked(now));
  for (size_t i = 0; i < probes_.size(); ++i) {
    const State& s = states_[i];
    const Entry& entry = probes_[i];
    v1::ProbeResult* p = out.add_probes();
    p->set_name(entry.probe->name());
    p->set_target(entry.probe->target());
    p->set_grace_ms(absl::ToInt64Milliseconds(entry.grace));
    if (!s.checked) {
      p->set_error("not checked yet");
      continue;
    }
    p->set_ok(s.last.ok());
    p->set_failing(s.failing_since != absl::InfinitePast() && now - s.failing_since >= entry.grace);
    if (!s.last.ok()) p->set_error(std::string(s.last.message()));
    p->set_round_trip_us(absl::ToInt64Microseconds(s.round_trip));
    p->set_checked_at(IsoTime(s.checked_at));
    if (s.failing_since != absl::InfinitePast()) p->set_failing_since(IsoTime(s.failing_since));
  }
  return out;
}

}  // namespace teleclaude::mesh
