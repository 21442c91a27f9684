// Server-side gRPC metrics for the Prometheus endpoint: per method, how many
// calls ended with which code and how long they took from arrival to the
// status being sent (a histogram; for Pipeline.Submit that is the batch's
// way through the pipeline including its commit). Install it with
// GrpcServerOptions::interceptors.
//   teleclaude_grpc_server_handled_total{method="/teleclaude.mesh.v1.Pipeline/Submit",code="OK"}
//   teleclaude_grpc_server_handling_seconds_bucket{method="...",le="0.005"}
#ifndef TELECLAUDE_MESH_COMMON_GRPC_GRPC_METRICS_INTERCEPTOR_H_
#define TELECLAUDE_MESH_COMMON_GRPC_GRPC_METRICS_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace teleclaude::mesh {

// Thread-safe (gRPC calls it from its threads). Keeps `registry` alive.
class GrpcMetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit GrpcMetricsInterceptorFactory(std::shared_ptr<prometheus::Registry> registry);

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

  // Records one finished call (the interceptor calls it).
  void Record(const char* method, grpc::StatusCode code, double seconds);

 private:
  const std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& handling_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_GRPC_METRICS_INTERCEPTOR_H_
