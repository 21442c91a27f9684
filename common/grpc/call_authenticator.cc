#include "common/grpc/call_authenticator.h"

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <sodium/utils.h>

#include <string_view>
#include <utility>

#include "common/base/strings.h"

namespace teleclaude::mesh {
namespace {

using Access = CallAuthenticator::Access;

// Every RPC of this computer's services and who may call it. A method not
// here is kOwnerOnly (AccessOf): a new RPC is protected until classified.
constexpr std::pair<std::string_view, Access> kAccessTable[] = {
    // egress (services/egress/control/pipeline_service.h). Submit: ingress
    // (ORIGIN_MESH, checked in the handler), the installer, the owner.
    {"/teleclaude.mesh.v1.Pipeline/Submit", Access::kOwnerOrService},
    {"/teleclaude.mesh.v1.Pipeline/Emit", Access::kOwnerOrService},
    {"/teleclaude.mesh.v1.Pipeline/ListNotifications", Access::kOwnerOrService},
    {"/teleclaude.mesh.v1.Pipeline/GetNotification", Access::kOwnerOrService},
    {"/teleclaude.mesh.v1.Pipeline/MarkSeen", Access::kOwnerOrService},
    {"/teleclaude.mesh.v1.Pipeline/ResolveNotification", Access::kOwnerOrService},
    {"/teleclaude.mesh.v1.Pipeline/ListPeers", Access::kOwnerOrService},
    {"/teleclaude.mesh.v1.Pipeline/WatchEvents", Access::kOwnerOrService},
    {"/teleclaude.mesh.v1.Pipeline/Stats", Access::kOwnerOrService},
    {"/teleclaude.mesh.v1.Pipeline/ReloadCartridges", Access::kOwnerOrService},
    // the installer: what egress pushes and reports is the services' only.
    {"/teleclaude.mesh.v1.Installer/OnNotification", Access::kServiceOnly},
    {"/teleclaude.mesh.v1.Installer/RecordInvocations", Access::kServiceOnly},
    {"/teleclaude.mesh.v1.Installer/ReportCartridgeFailure", Access::kServiceOnly},
    {"/teleclaude.mesh.v1.Installer/ListActive", Access::kServiceOnly},
    {"/teleclaude.mesh.v1.Installer/ListCartridges", Access::kOwnerOrService},
    {"/teleclaude.mesh.v1.Installer/GetCartridge", Access::kOwnerOrService},
    {"/teleclaude.mesh.v1.Installer/GetStats", Access::kOwnerOrService},
    // The human gate: the owner's decision, never a service's.
    {"/teleclaude.mesh.v1.Installer/Activate", Access::kOwnerOnly},
    {"/teleclaude.mesh.v1.Installer/Reject", Access::kOwnerOnly},
    // ingress (read-only).
    {"/teleclaude.mesh.v1.Ingress/Status", Access::kOwnerOrService},
    {"/teleclaude.mesh.v1.Ingress/ListQuarantined", Access::kOwnerOrService},
};

std::string_view SliceView(const grpc_slice& slice) {
  return std::string_view(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(slice)),
                          GRPC_SLICE_LENGTH(slice));
}

struct ProcessorState {
  std::shared_ptr<const CallAuthenticator> authenticator;
};

// grpc_auth_metadata_processor.process: runs for every call on the port,
// in the call's path before any handler.
void ProcessCall(void* state, grpc_auth_context* /*context*/, const grpc_metadata* md,
                 size_t num_md, grpc_process_auth_metadata_done_cb done, void* user_data) {
  const CallAuthenticator& authenticator = *static_cast<ProcessorState*>(state)->authenticator;
  std::string_view method;
  std::optional<std::string_view> authorization;
  bool repeated = false;
  for (size_t i = 0; i < num_md; ++i) {
    std::string_view key = SliceView(md[i].key);
    if (key == ":path") {
      method = SliceView(md[i].value);
    } else if (key == kAuthMetadataKey) {
      repeated = authorization.has_value();
      authorization = SliceView(md[i].value);
    }
  }
  CallAuthenticator::Decision decision;
  if (repeated) {
    decision.status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                   "more than one \"authorization\" metadata entry; send one");
  } else {
    decision = authenticator.Check(method, authorization);
  }
  if (!decision.status.ok()) {
    done(user_data, nullptr, 0, nullptr, 0,
         static_cast<grpc_status_code>(decision.status.error_code()),
         decision.status.error_message().c_str());
    return;
  }
  // Nothing is recorded in the auth context: gRPC passes the connection's,
  // which every call on the connection shares (CallAuthenticator::RoleOf).
  done(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_OK, nullptr);
}

void DestroyState(void* state) { delete static_cast<ProcessorState*>(state); }

// Plaintext credentials with the processor above. gRPC's C++
// InsecureServerCredentials() refuses SetAuthMetadataProcessor (it asserts);
// the C core's insecure credentials accept one, so the port is added through
// the C API, as gRPC's own C++ credential classes do.
class AuthenticatedInsecureCredentials final : public grpc::ServerCredentials {
 public:
  explicit AuthenticatedInsecureCredentials(std::shared_ptr<const CallAuthenticator> authenticator)
      : authenticator_(std::move(authenticator)) {}

  void SetAuthMetadataProcessor(
      const std::shared_ptr<grpc::AuthMetadataProcessor>& /*processor*/) override {
    // The processor is ours; nothing else may replace it.
  }

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    grpc_server_credentials* creds = grpc_insecure_server_credentials_create();
    grpc_auth_metadata_processor processor;
    processor.process = &ProcessCall;
    processor.destroy = &DestroyState;
    processor.state = new ProcessorState{authenticator_};
    grpc_server_credentials_set_auth_metadata_processor(creds, processor);
    int port = grpc_server_add_http2_port(server, addr.c_str(), creds);
    grpc_server_credentials_release(creds);
    return port;
  }
  bool IsInsecure() const override { return true; }

  const std::shared_ptr<const CallAuthenticator> authenticator_;
};

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  // Token lengths are fixed and public; only the content must not leak.
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void WipeString(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
}

}  // namespace

std::string_view CallerRoleName(CallerRole role) {
  switch (role) {
    case CallerRole::kService:
      return "service";
    case CallerRole::kOwner:
      return "owner";
    case CallerRole::kNone:
      break;
  }
  return "none";
}

CallAuthenticator::CallAuthenticator(std::string_view service_token, std::string_view owner_token,
                                     std::string owner_token_hint)
    : service_token_(service_token),
      owner_token_(owner_token),
      owner_token_hint_(std::move(owner_token_hint)) {}

CallAuthenticator::~CallAuthenticator() {
  WipeString(service_token_);
  WipeString(owner_token_);
}

CallAuthenticator::Access CallAuthenticator::AccessOf(std::string_view method) {
  if (method.starts_with("/grpc.health.v1.Health/") ||
      method.starts_with("/grpc.reflection.v1alpha.ServerReflection/") ||
      method.starts_with("/grpc.reflection.v1.ServerReflection/")) {
    return Access::kOpen;
  }
  for (const auto& [m, access] : kAccessTable) {
    if (m == method) return access;
  }
  return Access::kOwnerOnly;
}

std::string_view CallAuthenticator::TokenOf(CallerRole role) const {
  return role == CallerRole::kService ? std::string_view(service_token_)
                                      : std::string_view(owner_token_);
}

CallerRole CallAuthenticator::TokenRole(std::string_view authorization) const {
  if (!authorization.starts_with(kBearerPrefix)) return CallerRole::kNone;
  std::string_view token = authorization.substr(kBearerPrefix.size());
  const CallerRole claimed = token.starts_with(kServiceTokenPrefix) ? CallerRole::kService
                             : token.starts_with(kOwnerTokenPrefix) ? CallerRole::kOwner
                                                                    : CallerRole::kNone;
  if (claimed == CallerRole::kNone || !ConstantTimeEqual(token, TokenOf(claimed))) {
    return CallerRole::kNone;
  }
  return claimed;
}

CallAuthenticator::Decision CallAuthenticator::Check(
    std::string_view method, std::optional<std::string_view> authorization) const {
  Decision decision;
  const Access access = AccessOf(method);
  if (!authorization.has_value()) {
    if (access == Access::kOpen) return decision;
    decision.status = grpc::Status(
        grpc::StatusCode::UNAUTHENTICATED,
        Cat(method,
            " needs this computer's owner token: send the metadata \"authorization: "
            "Bearer <token>\" (the token is in ",
            owner_token_hint_, "; telec reads it from there or from --auth_token_file)"));
    return decision;
  }
  if (!authorization->starts_with(kBearerPrefix)) {
    decision.status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                   "the \"authorization\" metadata must be \"Bearer <token>\"");
    return decision;
  }
  const CallerRole claimed = TokenRole(*authorization);
  if (claimed == CallerRole::kNone) {
    decision.status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                   Cat("the token sent is not this computer's (the owner token "
                                       "is in ",
                                       owner_token_hint_, ")"));
    return decision;
  }
  if (claimed == CallerRole::kOwner && access == Access::kServiceOnly) {
    decision.status =
        grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                     Cat(method, " is for this computer's own services, not for its owner"));
    return decision;
  }
  if (claimed == CallerRole::kService && access == Access::kOwnerOnly) {
    decision.status = grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                   Cat(method, " is for this computer's owner (the owner token)"));
    return decision;
  }
  decision.role = claimed;
  return decision;
}

std::shared_ptr<grpc::ServerCredentials> CallAuthenticator::ServerCredentials(
    std::shared_ptr<const CallAuthenticator> self) {
  return std::make_shared<AuthenticatedInsecureCredentials>(std::move(self));
}

CallerRole CallAuthenticator::RoleOf(const grpc::ServerContextBase& context) const {
  std::optional<std::string_view> authorization;
  for (const auto& [key, value] : context.client_metadata()) {
    if (std::string_view(key.data(), key.size()) != kAuthMetadataKey) continue;
    if (authorization.has_value()) return CallerRole::kNone;  // refused before any handler
    authorization = std::string_view(value.data(), value.size());
  }
  return authorization.has_value() ? TokenRole(*authorization) : CallerRole::kNone;
}

}  // namespace teleclaude::mesh
