#include "services/egress/control/cartridge_manager.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "glog/logging.h"

namespace teleclaude::mesh {

CartridgeManager::CartridgeManager(Options options, InstallerClient* installer,
                                   const CartridgeFactoryRegistry* registry, PipelineWorker* worker,
                                   PipelineRunner* runner)
    : options_(options),
      installer_(installer),
      registry_(registry),
      worker_(worker),
      runner_(runner) {}

CartridgeManager::~CartridgeManager() { Stop(); }

void CartridgeManager::Start() {
  thread_ = std::thread([this] { Run(); });
}

void CartridgeManager::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  std::deque<ReloadDoneFn> reloads;
  {
    absl::MutexLock lock(&mu_);
    reloads.swap(reloads_);
  }
  for (auto& done : reloads) done(absl::UnavailableError("egress is shutting down"));
}

void CartridgeManager::Reload(ReloadDoneFn done) {
  {
    absl::MutexLock lock(&mu_);
    if (!stop_) {
      reloads_.push_back(std::move(done));
      return;
    }
  }
  done(absl::UnavailableError("egress is shutting down"));
}

void CartridgeManager::ReportSuspended(const CartridgeSpec& spec, const std::string& reason) {
  v1::ReportCartridgeFailureRequest request;
  request.set_name(spec.name);
  request.set_sha256(spec.sha256);
  request.set_suspended(true);
  request.set_reason(reason);
  absl::MutexLock lock(&mu_);
  reports_.push_back(std::move(request));
}

absl::StatusOr<v1::ReloadCartridgesResponse> CartridgeManager::LoadAndSwap(
    const std::function<void(absl::StatusOr<v1::ReloadCartridgesResponse>)>& done) {
  absl::StatusOr<v1::ListActiveResponse> active = installer_->ListActive();
  if (!active.ok()) return active.status();
  auto set = std::make_shared<std::vector<ActiveCartridge>>();
  v1::ReloadCartridgesResponse response;
  for (const v1::Cartridge& c : active->cartridges()) {
    CartridgeSpec spec;
    spec.name = c.name();
    spec.version = c.version();
    spec.sha256 = c.sha256();
    spec.runtime = c.runtime();
    spec.entry_point = c.entry_point();
    spec.event_type = c.event_type();
    spec.source = c.source();
    spec.dependencies.assign(c.dependencies().begin(), c.dependencies().end());
    absl::StatusOr<std::unique_ptr<Cartridge>> built = registry_->Create(spec);
    if (!built.ok()) {
      std::string reason(built.status().message());
      LOG(WARNING) << "cartridge " << spec.name << " (" << spec.runtime
                   << ") not loaded: " << reason;
      (*response.mutable_failed())[spec.name] = reason;
      v1::ReportCartridgeFailureRequest report;
      report.set_name(spec.name);
      report.set_sha256(spec.sha256);
      report.set_suspended(false);
      report.set_reason(reason);
      absl::Status s = installer_->ReportCartridgeFailure(report);
      if (!s.ok()) {
        absl::MutexLock lock(&mu_);
        reports_.push_back(std::move(report));
      }
      continue;
    }
    response.add_active(spec.name);
    set->push_back({std::move(spec), std::move(*built)});
  }
  // Swap on the worker, between batches.
  worker_->Post([this, set, response, done](bool stopped) {
    if (stopped) {
      if (done) done(absl::UnavailableError("egress is shutting down"));
      return;
    }
    runner_->SetActive(std::move(*set));
    LOG(INFO) << "active cartridges: " << response.active_size() << " loaded, "
              << response.failed_size() << " failed";
    if (done) done(response);
  });
  return response;
}

void CartridgeManager::Run() {
  absl::Duration retry = options_.retry_min;
  absl::Time next_initial = absl::InfinitePast();
  absl::Time next_report = absl::InfinitePast();
  bool logged_unreachable = false;
  const absl::Time started = absl::Now();
  while (true) {
    std::deque<ReloadDoneFn> reloads;
    bool need_initial;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !reloads_.empty(); };
      absl::Time now = absl::Now();
      absl::Time wake = std::min(initial_loaded_ ? absl::InfiniteFuture() : next_initial,
                                 reports_.empty() ? absl::InfiniteFuture() : next_report);
      if (wake > now) {
        mu_.AwaitWithTimeout(absl::Condition(&ready),
                             std::min(wake - now, absl::Milliseconds(500)));
      }
      if (stop_) return;
      reloads.swap(reloads_);
      need_initial = !initial_loaded_ && absl::Now() >= next_initial;
    }
    for (ReloadDoneFn& done : reloads) {
      absl::StatusOr<v1::ReloadCartridgesResponse> r = LoadAndSwap(done);
      if (!r.ok()) {
        done(r.status());
      } else {
        absl::MutexLock lock(&mu_);
        initial_loaded_ = true;
      }
    }
    if (need_initial) {
      absl::StatusOr<v1::ReloadCartridgesResponse> r = LoadAndSwap(nullptr);
      if (r.ok()) {
        absl::MutexLock lock(&mu_);
        initial_loaded_ = true;
        if (logged_unreachable) LOG(INFO) << "installer reachable: active cartridges loaded";
      } else {
        // The installer may simply start after egress: quiet until warn_after.
        if (!logged_unreachable && absl::Now() - started >= options_.warn_after) {
          LOG(WARNING) << "cannot load the active cartridges for "
                       << absl::FormatDuration(absl::Trunc(absl::Now() - started, absl::Seconds(1)))
                       << " (running without them, retrying in the background): "
                       << r.status().message();
          logged_unreachable = true;
        } else if (!logged_unreachable) {
          VLOG(1) << "active cartridges not loaded yet: " << r.status().message();
        }
        next_initial = absl::Now() + retry;
        retry = std::min(retry * 2, options_.retry_max);
      }
    }
    // Pending failure reports, retried until the installer answers.
    if (absl::Now() >= next_report) {
      std::deque<v1::ReportCartridgeFailureRequest> reports;
      {
        absl::MutexLock lock(&mu_);
        reports.swap(reports_);
      }
      while (!reports.empty()) {
        absl::Status s = installer_->ReportCartridgeFailure(reports.front());
        if (!s.ok()) {
          LOG_EVERY_N(WARNING, 10) << "ReportCartridgeFailure " << reports.front().name()
                                   << " not delivered (retrying): " << s.message();
          next_report = absl::Now() + absl::Seconds(2);
          absl::MutexLock lock(&mu_);
          reports_.insert(reports_.begin(), reports.begin(), reports.end());
          break;
        }
        reports.pop_front();
      }
    }
  }
}

}  // namespace teleclaude::mesh
