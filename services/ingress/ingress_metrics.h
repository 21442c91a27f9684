// Ingress's own figures for the Prometheus endpoint (--metrics_addr), read
// at each scrape from what Ingress.Status answers:
//   teleclaude_ingress_received_total, _accepted_total, _flagged_total,
//     _quarantined_total, _malformed_total, _non_mesh_ignored_total,
//     _submit_retries_total
//   teleclaude_ingress_rejected_total{reason}
//   teleclaude_ingress_lag                      entries of messages:{me} not yet read
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_INGRESS_METRICS_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_INGRESS_METRICS_H_

#include <vector>

#include "prometheus/collectable.h"
#include "services/ingress/ingress_service.h"

namespace teleclaude::mesh {

// Thread-safe. `service` is not owned and outlives the collectable's use.
class IngressMetrics final : public prometheus::Collectable {
 public:
  explicit IngressMetrics(IngressService* service) : service_(service) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  IngressService* const service_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_INGRESS_METRICS_H_
