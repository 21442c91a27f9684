#include "common/grpc/grpc_metrics_interceptor.h"

#include <grpcpp/support/interceptor.h>

#include <chrono>
#include <string>
#include <utility>

namespace teleclaude::mesh {
namespace {

// grpc::StatusCode -> "OK", "UNAVAILABLE", ...
const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "OTHER";
  }
}

// One call: started when gRPC creates it, recorded when its status is sent.
class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(GrpcMetricsInterceptorFactory* factory, const char* method)
      : factory_(factory), method_(method), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
      factory_->Record(method_, methods->GetSendStatus().error_code(), elapsed.count());
    }
    methods->Proceed();
  }

 private:
  GrpcMetricsInterceptorFactory* const factory_;
  const char* const method_;
  const std::chrono::steady_clock::time_point start_;
};

}  // namespace

GrpcMetricsInterceptorFactory::GrpcMetricsInterceptorFactory(
    std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)),
      handled_(prometheus::BuildCounter()
                   .Name("teleclaude_grpc_server_handled_total")
                   .Help("gRPC calls this service finished, by method and status code")
                   .Register(*registry_)),
      handling_(prometheus::BuildHistogram()
                    .Name("teleclaude_grpc_server_handling_seconds")
                    .Help("Time from a call's arrival to its status, by method")
                    .Register(*registry_)) {}

grpc::experimental::Interceptor* GrpcMetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new MetricsInterceptor(this, info->method());
}

void GrpcMetricsInterceptorFactory::Record(const char* method, grpc::StatusCode code,
                                           double seconds) {
  static const auto* const kBuckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  const std::string m = method != nullptr ? method : "";
  handled_.Add({{"method", m}, {"code", CodeName(code)}}).Increment();
  handling_.Add({{"method", m}}, *kBuckets).Observe(seconds);
}

}  // namespace teleclaude::mesh
