#include "services/installer/installer_metrics.h"

#include <map>
#include <string>

#include "common/grpc/metrics_endpoint.h"
#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

std::string StatusLabel(v1::CartridgeStatus status) {
  std::string name = v1::CartridgeStatus_Name(status);
  constexpr std::string_view kPrefix = "CARTRIDGE_STATUS_";
  if (name.starts_with(kPrefix)) name.erase(0, kPrefix.size());
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace

std::vector<prometheus::MetricFamily> InstallerMetrics::Collect() const {
  absl::StatusOr<v1::GetStatsResponse> stats = installer_->GetStats();
  absl::StatusOr<v1::ListCartridgesResponse> list = installer_->ListCartridges();
  if (!stats.ok() || !list.ok()) {
    LOG_EVERY_N(WARNING, 10) << "metrics: " << (stats.ok() ? list.status() : stats.status());
    return {};
  }
  MetricFamilies f;
  std::map<std::string, int64_t> by_status;
  for (v1::CartridgeStatus s :
       {v1::CARTRIDGE_STATUS_PENDING, v1::CARTRIDGE_STATUS_ACTIVE, v1::CARTRIDGE_STATUS_REJECTED,
        v1::CARTRIDGE_STATUS_SUPERSEDED, v1::CARTRIDGE_STATUS_SUSPENDED,
        v1::CARTRIDGE_STATUS_FAILED, v1::CARTRIDGE_STATUS_INACTIVE, v1::CARTRIDGE_STATUS_SYSTEM}) {
    by_status[StatusLabel(s)] = 0;
  }
  for (const v1::Cartridge& c : list->cartridges()) {
    if (!c.unregistered_file()) ++by_status[StatusLabel(c.status())];
  }
  for (const auto& [status, n] : by_status) {
    f.Gauge("teleclaude_installer_cartridges", "Cartridge versions in the registry, by status", n,
            {{"status", status}});
  }
  for (const v1::CartridgeStat& s : stats->stats()) {
    f.Counter("teleclaude_installer_cartridge_invocations_total",
              "Invocations of each cartridge recorded in installer.db (all time)",
              s.invocation_count(), {{"cartridge", s.cartridge_name()}});
  }
  f.Gauge("teleclaude_installer_outbox_depth", "Events and calls not yet handed to egress",
          stats->events_unsent());
  const OutboxTotals outbox = installer_->OutboxFigures();
  f.Counter("teleclaude_installer_outbox_dropped_total",
            "Events and calls for egress dropped by the outbox's bound (since start)",
            outbox.dropped);
  f.Counter("teleclaude_installer_outbox_refused_total",
            "Events and calls egress refused for good (since start)", outbox.refused);
  return f.Take();
}

}  // namespace teleclaude::mesh
