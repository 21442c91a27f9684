// The Prometheus text endpoint of a service (--metrics_addr; off when
// empty): GET http://ADDR/metrics, served by prometheus-cpp (Debian's
// prometheus-cpp-dev: its civetweb exposer and text serializer). What it
// shows comes from
//   * registry(): metrics components update as they go (the gRPC handling
//     histograms of GrpcServerOptions::metrics);
//   * Add(): collectables asked at each scrape, e.g. a service's Stats
//     counters as MetricFamilies built with MetricFamilies below.
// Every metric is named teleclaude_*.
#ifndef TELECLAUDE_MESH_COMMON_GRPC_METRICS_ENDPOINT_H_
#define TELECLAUDE_MESH_COMMON_GRPC_METRICS_ENDPOINT_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace teleclaude::mesh {

// Thread-safe.
class MetricsEndpoint {
 public:
  // Listens on `addr` ("host:port", Config::metrics_addr; port 0 picks a
  // free one, see port()). `flag_name` and
  // `program` name the option and the process in errors:
  // UNAVAILABLE "metrics_addr 127.0.0.1:9464: cannot listen (address in use?);
  // ..." when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& addr, const std::string& program,
      const std::string& flag_name = "metrics_addr");
  ~MetricsEndpoint();

  // For metrics updated as events happen (counters, histograms).
  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }
  // A collectable asked at each scrape; kept alive by the endpoint.
  void Add(std::shared_ptr<prometheus::Collectable> collectable);

  int port() const { return port_; }
  // "127.0.0.1:<port>"-style address for log lines and clients.
  const std::string& address() const { return address_; }

 private:
  MetricsEndpoint(std::unique_ptr<prometheus::Exposer> exposer, int port, std::string address);

  const std::shared_ptr<prometheus::Registry> registry_;
  const std::unique_ptr<prometheus::Exposer> exposer_;
  const int port_;
  const std::string address_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
};

// Builds the families of one scrape from figures read at that moment:
//   MetricFamilies f;
//   f.Counter("teleclaude_egress_inputs_processed_total", "...", stats.inputs_processed());
//   f.Gauge("teleclaude_egress_outbox_depth", "...", stats.outbox_depth());
//   f.Counter("teleclaude_egress_forwarded_total", "...", n, {{"peer", name}});
//   return f.Take();
// Series of the same name join one family (type and help from the first).
// Thread-compatible.
class MetricFamilies {
 public:
  using Labels = std::map<std::string, std::string>;
  void Counter(const std::string& name, const std::string& help, double value,
               const Labels& labels = {});
  void Gauge(const std::string& name, const std::string& help, double value,
             const Labels& labels = {});
  std::vector<prometheus::MetricFamily> Take();

 private:
  prometheus::ClientMetric& Add(const std::string& name, const std::string& help,
                                prometheus::MetricType type, const Labels& labels);
  std::vector<prometheus::MetricFamily> families_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_METRICS_ENDPOINT_H_
