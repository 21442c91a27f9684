// The HealthMonitor's findings as Prometheus metrics (for MetricsEndpoint):
//   teleclaude_serving                              1 / 0 (grpc.health.v1)
//   teleclaude_dependency_up{dependency="redis"}    1 / 0 (the last check)
//   teleclaude_dependency_check_seconds{dependency} duration of the last check
#ifndef TELECLAUDE_MESH_COMMON_GRPC_HEALTH_METRICS_H_
#define TELECLAUDE_MESH_COMMON_GRPC_HEALTH_METRICS_H_

#include <vector>

#include "common/grpc/health_monitor.h"
#include "prometheus/collectable.h"

namespace teleclaude::mesh {

// Thread-safe. `monitor` is not owned and outlives the collectable's use.
class HealthMetrics final : public prometheus::Collectable {
 public:
  explicit HealthMetrics(const HealthMonitor* monitor) : monitor_(monitor) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const HealthMonitor* const monitor_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_HEALTH_METRICS_H_
