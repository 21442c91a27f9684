#include "common/grpc/peer_service_probe.h"

#include <grpcpp/client_context.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpc/channel.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace teleclaude::mesh {

PeerServiceProbe::PeerServiceProbe(std::string name, std::string addr, absl::Duration timeout)
    : name_(std::move(name)),
      addr_(std::move(addr)),
      timeout_(timeout),
      channel_(MakeChannel(addr_)) {}

absl::Status PeerServiceProbe::Check() {
  auto stub = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  // An answer of any kind (NOT_SERVING, or a refusal by an interceptor)
  // means the process runs and listens.
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
      status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::OkStatus();
  }
  return absl::UnavailableError(
      absl::StrCat(name_, " at ", addr_, " does not answer: ", status.error_message()));
}

}  // namespace teleclaude::mesh
