#include "cli/telec/service_clients.h"

#include <grpcpp/support/channel_arguments.h>

#include "common/base/strings.h"
#include "common/grpc/channel.h"
#include "common/identity/local_tokens.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace teleclaude::mesh::telec {
namespace {

std::string_view ProgramOf(Service service) {
  switch (service) {
    case Service::kEgress:
      return "telec-egress";
    case Service::kIngress:
      return "telec-ingress";
    case Service::kInstaller:
      return "telec-installer";
  }
  return "?";
}

}  // namespace

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnreachable;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return kExitUsage;
    default:
      return kExitRefused;
  }
}

std::string_view ServiceName(Service service) {
  switch (service) {
    case Service::kEgress:
      return "egress";
    case Service::kIngress:
      return "ingress";
    case Service::kInstaller:
      return "installer";
  }
  return "?";
}

std::string CannotReachMessage(Service service, std::string_view address) {
  return Cat("cannot reach ", ServiceName(service), " at ", address, " (is ", ProgramOf(service),
             " running? start it with deploy/run-local.sh)");
}

ServiceClients::ServiceClients(const Config& config, absl::Duration call_timeout)
    : config_(config), call_timeout_(call_timeout) {}

const std::string& ServiceClients::address(Service service) const {
  switch (service) {
    case Service::kEgress:
      return config_.egress_addr;
    case Service::kIngress:
      return config_.ingress_addr;
    case Service::kInstaller:
      break;
  }
  return config_.installer_addr;
}

std::shared_ptr<grpc::Channel> ServiceClients::Channel(Service service) {
  std::shared_ptr<grpc::Channel>& channel = channels_[static_cast<int>(service)];
  if (channel == nullptr) {
    ChannelOptions options;
    options.max_message_bytes = static_cast<int>(config_.max_message_bytes);
    options.auth_token = Token();
    channel = MakeChannel(address(service), options);
  }
  return channel;
}

const std::string& ServiceClients::Token() {
  if (!token_read_) {
    token_read_ = true;
    absl::StatusOr<SecretBytes> token = LocalTokens::LoadTokenFile(config_.owner_token_path());
    if (token.ok()) {
      token_ = std::string(token->view());
    } else {
      token_error_ = token.status();
    }
  }
  return token_;
}

v1::Pipeline::Stub& ServiceClients::egress() {
  if (egress_ == nullptr) egress_ = v1::Pipeline::NewStub(Channel(Service::kEgress));
  return *egress_;
}

v1::Ingress::Stub& ServiceClients::ingress() {
  if (ingress_ == nullptr) ingress_ = v1::Ingress::NewStub(Channel(Service::kIngress));
  return *ingress_;
}

v1::Installer::Stub& ServiceClients::installer() {
  if (installer_ == nullptr) installer_ = v1::Installer::NewStub(Channel(Service::kInstaller));
  return *installer_;
}

v1::Readiness::Stub& ServiceClients::readiness(Service service) {
  std::unique_ptr<v1::Readiness::Stub>& stub = readiness_[static_cast<int>(service)];
  if (stub == nullptr) stub = v1::Readiness::NewStub(Channel(service));
  return *stub;
}

std::unique_ptr<grpc::ClientContext> ServiceClients::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + call_timeout_));
  context->set_wait_for_ready(false);
  return context;
}

absl::Status ServiceClients::CheckHealth(Service service, absl::Duration timeout) {
  auto stub = grpc::health::v1::Health::NewStub(Channel(service));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return Explain(service, status);
  if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    std::string why;
    // NewContext: whatever every call of telec carries, with this timeout.
    std::unique_ptr<grpc::ClientContext> readiness_context = NewContext();
    readiness_context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    v1::GetReadinessResponse readiness;
    if (this->readiness(service)
            .GetReadiness(readiness_context.get(), v1::GetReadinessRequest(), &readiness)
            .ok()) {
      for (const v1::ProbeResult& p : readiness.probes()) {
        if (p.failing()) CatTo(why, why.empty() ? ": " : "; ", p.name(), ": ", p.error());
      }
    }
    return absl::FailedPreconditionError(
        Cat(ServiceName(service), " at ", address(service), " reports ",
            grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status()), why));
  }
  return absl::OkStatus();
}

absl::Status ServiceClients::Explain(Service service, const grpc::Status& status) {
  const std::string& addr = address(service);
  std::string_view name = ServiceName(service);
  const std::string& message = status.error_message();
  // Whether the transport ever got through: a call that failed while the
  // channel is not READY never reached the service.
  bool connected = Channel(service)->GetState(false) == GRPC_CHANNEL_READY;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      if (!connected || message.find("failed to connect") != std::string::npos ||
          message.find("Connection refused") != std::string::npos) {
        return absl::UnavailableError(CannotReachMessage(service, addr));
      }
      return absl::UnavailableError(Cat(name, " is unavailable: ", message));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      if (!connected) return absl::UnavailableError(CannotReachMessage(service, addr));
      return absl::DeadlineExceededError(Cat(name, " at ", addr, " did not answer within ",
                                             absl::FormatDuration(call_timeout_),
                                             " (is it overloaded or stuck?)"));
    case grpc::StatusCode::UNIMPLEMENTED:
      return absl::UnimplementedError(Cat(name, " at ", addr,
                                          " does not offer this call (is it an older or "
                                          "unfinished ",
                                          ProgramOf(service), "?)",
                                          message.empty() ? "" : Cat(": ", message)));
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DATA_LOSS:
      return absl::InternalError(
          Cat(name, " failed: ", message.empty() ? "no details (see its log)" : message));
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return absl::ResourceExhaustedError(Cat(name,
                                              " refused the request as too large or too "
                                              "many: ",
                                              message));
    case grpc::StatusCode::UNAUTHENTICATED:
      if (!token_error_.ok()) {
        return absl::UnauthenticatedError(
            Cat(name, " at ", addr, " needs the owner token: ", token_error_.message()));
      }
      return absl::UnauthenticatedError(Cat(name, " at ", addr, " refused telec: ", message));
    case grpc::StatusCode::CANCELLED:
      return absl::CancelledError(Cat("the call to ", name, " was cancelled"));
    default:
      break;
  }
  // NOT_FOUND, FAILED_PRECONDITION, INVALID_ARGUMENT, ALREADY_EXISTS, ...:
  // the service's message says what is wrong in plain words.
  absl::StatusCode code = static_cast<absl::StatusCode>(status.error_code());
  if (code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kOutOfRange) {
    code = absl::StatusCode::kFailedPrecondition;  // refused by the service: exit 1
  }
  return absl::Status(code, message.empty() ? Cat(name, " refused the request") : message);
}

}  // namespace teleclaude::mesh::telec
