#include "services/ingress/ingress_metrics.h"

#include "common/grpc/metrics_endpoint.h"

namespace teleclaude::mesh {

std::vector<prometheus::MetricFamily> IngressMetrics::Collect() const {
  v1::IngressStatusRequest request;
  v1::IngressStatusResponse s;
  // Status is a plain sync handler that never looks at its context.
  (void)service_->Status(nullptr, &request, &s);
  MetricFamilies f;
  f.Counter("teleclaude_ingress_received_total", "Mesh entries read from messages:{me}",
            s.received());
  f.Counter("teleclaude_ingress_accepted_total", "Mesh events the trust gate let in", s.accepted());
  f.Counter("teleclaude_ingress_flagged_total", "Accepted mesh events with trust flags",
            s.flagged());
  f.Counter("teleclaude_ingress_quarantined_total", "Mesh events kept in quarantine",
            s.quarantined());
  f.Counter("teleclaude_ingress_malformed_total", "Mesh entries that could not be decoded",
            s.malformed());
  f.Counter("teleclaude_ingress_non_mesh_ignored_total",
            "Entries of messages:{me} that are not mesh events", s.non_mesh_ignored());
  f.Counter("teleclaude_ingress_submit_retries_total",
            "Pipeline.Submit calls to egress that had to be retried", s.submit_retries());
  for (const auto& [reason, n] : s.rejected_by_reason()) {
    f.Counter("teleclaude_ingress_rejected_total", "Mesh events the trust gate rejected, by reason",
              n, {{"reason", reason}});
  }
  f.Gauge("teleclaude_ingress_lag", "Entries of messages:{me} not yet read (-1: unknown)", s.lag());
  return f.Take();
}

}  // namespace teleclaude::mesh
