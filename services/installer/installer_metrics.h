// The installer's own figures for the Prometheus endpoint (--metrics_addr),
// read at each scrape (CartridgeInstaller::GetStats / ListCartridges /
// OutboxFigures):
//   teleclaude_installer_cartridges{status="pending"|"active"|...}
//   teleclaude_installer_cartridge_invocations_total{cartridge}  (recorded in installer.db)
//   teleclaude_installer_outbox_depth     events not yet handed to egress
//   teleclaude_installer_outbox_dropped_total  dropped by the outbox's bound (since start)
//   teleclaude_installer_outbox_refused_total  refused for good by egress (since start)
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_INSTALLER_METRICS_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_INSTALLER_METRICS_H_

#include <vector>

#include "prometheus/collectable.h"
#include "services/installer/cartridge_installer.h"

namespace teleclaude::mesh {

// Thread-safe. `installer` is not owned and outlives the collectable's use.
class InstallerMetrics final : public prometheus::Collectable {
 public:
  explicit InstallerMetrics(CartridgeInstaller* installer) : installer_(installer) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  CartridgeInstaller* const installer_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_INSTALLER_METRICS_H_
