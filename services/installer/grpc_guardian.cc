#include "services/installer/grpc_guardian.h"

#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "common/grpc/channel.h"

namespace teleclaude::mesh {

GrpcGuardian::GrpcGuardian(std::string addr, absl::Duration timeout)
    : addr_(std::move(addr)), timeout_(timeout), stub_(v1::Guardian::NewStub(MakeChannel(addr_))) {}

absl::StatusOr<GuardianVerdict> GrpcGuardian::Evaluate(const CartridgeCandidate& cartridge) {
  v1::EvaluateRequest request;
  request.set_name(cartridge.name);
  request.set_version(cartridge.version);
  request.set_author(cartridge.author);
  request.set_event_type(cartridge.event_type);
  request.set_runtime(cartridge.runtime);
  request.set_entry_point(cartridge.entry_point);
  request.set_description(cartridge.description);
  request.set_source(cartridge.source);
  request.set_source_computer(cartridge.source_computer);
  v1::EvaluateResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  grpc::Status status = stub_->Evaluate(&context, request, &response);
  if (!status.ok()) {
    return FromGrpcStatus(status, absl::StrCat("guardian ", addr_));
  }
  GuardianVerdict verdict;
  verdict.approved = response.approved();
  verdict.reason = response.reason();
  if (verdict.reason.empty()) {
    verdict.reason =
        verdict.approved ? "approved by the external guardian" : "denied by the external guardian";
  }
  verdict.decided_by = absl::StrCat("guardian:", addr_);
  return verdict;
}

}  // namespace teleclaude::mesh
