#include "common/grpc/service_telemetry.h"

#include <utility>

#include "common/base/status_macros.h"
#include "common/grpc/grpc_metrics_interceptor.h"
#include "common/grpc/health_metrics.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

absl::StatusOr<std::unique_ptr<ServiceTelemetry>> ServiceTelemetry::Create(Options options) {
  std::unique_ptr<MetricsEndpoint> metrics;
  if (options.metrics_addr.has_value()) {
    TM_ASSIGN_OR_RETURN(metrics, MetricsEndpoint::Start(*options.metrics_addr, options.program));
    LOG(INFO) << options.program << ": Prometheus metrics on http://" << metrics->address()
              << "/metrics";
  }
  return std::unique_ptr<ServiceTelemetry>(new ServiceTelemetry(options, std::move(metrics)));
}

ServiceTelemetry::ServiceTelemetry(const Options& options, std::unique_ptr<MetricsEndpoint> metrics)
    : health_(HealthMonitorOptions{.program = options.program}), metrics_(std::move(metrics)) {
  if (metrics_ != nullptr) metrics_->Add(std::make_shared<HealthMetrics>(&health_));
}

ServiceTelemetry::~ServiceTelemetry() { Stop(); }

void ServiceTelemetry::AddMetrics(std::shared_ptr<prometheus::Collectable> collectable) {
  if (metrics_ != nullptr) metrics_->Add(std::move(collectable));
}

void ServiceTelemetry::Prepare(std::vector<grpc::Service*>* services, GrpcServerOptions* options) {
  health_.CheckNow();
  services->push_back(health_.service());
  if (metrics_ != nullptr) {
    options->interceptors.push_back(
        std::make_shared<GrpcMetricsInterceptorFactory>(metrics_->registry()));
  }
}

void ServiceTelemetry::Start(GrpcServer* server) { health_.Start(server); }

void ServiceTelemetry::Stop() { health_.Stop(); }

}  // namespace teleclaude::mesh
