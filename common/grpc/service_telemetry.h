// What every service adds to its gRPC server beyond its own RPCs (issue 17):
// a HealthMonitor (readiness probes driving grpc.health.v1) with the
// Readiness service, and, with --metrics_addr, the Prometheus endpoint with
// the gRPC handling metrics, the probes' metrics and the service's own.
// A process wires it in a few lines:
//
//   TM_ASSIGN_OR_RETURN(telemetry_, ServiceTelemetry::Create({"telec-egress",
//   config.metrics_addr})); telemetry_->health().Add(std::make_unique<RedisProbe>(redis),
//   absl::ZeroDuration()); telemetry_->AddMetrics(std::make_shared<EgressMetrics>(...));
//   std::vector<grpc::Service*> services = {service_.get()};
//   telemetry_->Prepare(&services, &server_options);   // runs every probe once
//   TM_ASSIGN_OR_RETURN(server_, GrpcServer::Start(addr, services, server_options));
//   telemetry_->Start(server_.get());
//   ...
//   telemetry_->Stop();                                 // before the server goes
#ifndef TELECLAUDE_MESH_COMMON_GRPC_SERVICE_TELEMETRY_H_
#define TELECLAUDE_MESH_COMMON_GRPC_SERVICE_TELEMETRY_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/grpc/grpc_server.h"
#include "common/grpc/health_monitor.h"
#include "common/grpc/metrics_endpoint.h"
#include "prometheus/collectable.h"

namespace teleclaude::mesh {

// Thread-safe as its parts are; Create, Add*, Prepare, Start, Stop in that
// order from one thread.
class ServiceTelemetry {
 public:
  struct Options {
    std::string program;                      // "telec-egress"
    std::optional<std::string> metrics_addr;  // Config::metrics_addr
  };

  // Starts the metrics endpoint when metrics_addr is set (errors:
  // MetricsEndpoint::Start's).
  static absl::StatusOr<std::unique_ptr<ServiceTelemetry>> Create(Options options);
  ~ServiceTelemetry();  // Stop()

  HealthMonitor& health() { return health_; }
  // Null when metrics are off.
  MetricsEndpoint* metrics() { return metrics_.get(); }
  // A collectable of the service's own figures; ignored when metrics are off.
  void AddMetrics(std::shared_ptr<prometheus::Collectable> collectable);

  // Runs every probe once, appends the Readiness service to `services` and
  // (with metrics) the gRPC metrics interceptor to `options`.
  void Prepare(std::vector<grpc::Service*>* services, GrpcServerOptions* options);
  // Hands the health status to `server` and keeps it current.
  void Start(GrpcServer* server);
  // Stops the monitor's thread (the endpoint serves until destruction).
  void Stop();

 private:
  explicit ServiceTelemetry(const Options& options, std::unique_ptr<MetricsEndpoint> metrics);

  HealthMonitor health_;
  const std::unique_ptr<MetricsEndpoint> metrics_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_SERVICE_TELEMETRY_H_
