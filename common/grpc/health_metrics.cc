#include "common/grpc/health_metrics.h"

#include "common/grpc/metrics_endpoint.h"

namespace teleclaude::mesh {

std::vector<prometheus::MetricFamily> HealthMetrics::Collect() const {
  const v1::GetReadinessResponse report = monitor_->Report();
  MetricFamilies f;
  f.Gauge("teleclaude_serving", "1 while the service reports SERVING (grpc.health.v1), else 0",
          report.serving() ? 1 : 0);
  for (const v1::ProbeResult& p : report.probes()) {
    f.Gauge("teleclaude_dependency_up",
            "1 when the last check of a dependency (redis, its database, a peer service) passed",
            p.ok() ? 1 : 0, {{"dependency", p.name()}});
    f.Gauge("teleclaude_dependency_check_seconds",
            "How long the last check of a dependency took (Redis: the PING round trip)",
            static_cast<double>(p.round_trip_us()) / 1e6, {{"dependency", p.name()}});
  }
  return f.Take();
}

}  // namespace teleclaude::mesh
