// Egress's own figures for the Prometheus endpoint (--metrics_addr), read
// at each scrape from what Pipeline.Stats answers (PipelineService::StatsNow):
//   teleclaude_egress_inputs_processed_total, _duplicate_total, _invalid_total
//   teleclaude_egress_local_stream_lag             entries not yet read
//   teleclaude_egress_outbox_depth{outbox="mesh"|"push"|"invocations"}
//   teleclaude_egress_outbox_dropped_total, _input_holds_total, _wal_checkpoints_total
//   teleclaude_egress_forwarded_total{peer}
//   teleclaude_egress_cartridge_invocations_total{cartridge}, _failures_total,
//     _dropped_total, teleclaude_egress_cartridge_suspended{cartridge}
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_CONTROL_EGRESS_METRICS_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_CONTROL_EGRESS_METRICS_H_

#include <vector>

#include "prometheus/collectable.h"
#include "services/egress/control/pipeline_service.h"

namespace teleclaude::mesh {

// Thread-safe. `service` is not owned and outlives the collectable's use.
class EgressMetrics final : public prometheus::Collectable {
 public:
  explicit EgressMetrics(PipelineService* service) : service_(service) {}
  // The figures, or none when the worker does not answer within 2 s.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  PipelineService* const service_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_CONTROL_EGRESS_METRICS_H_
