#include "services/ingress/pipeline_client.h"

#include <grpcpp/client_context.h>

#include <utility>

#include "common/base/strings.h"
#include "common/grpc/channel.h"

namespace teleclaude::mesh {

PipelineClient::PipelineClient(std::string addr, absl::Duration timeout,
                               const ChannelOptions& channel)
    : addr_(std::move(addr)),
      timeout_(timeout),
      stub_(v1::Pipeline::NewStub(MakeChannel(addr_, channel))) {}

absl::StatusOr<v1::SubmitResponse> PipelineClient::Submit(const v1::SubmitRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  v1::SubmitResponse response;
  grpc::Status status = stub_->Submit(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status, Cat("Pipeline.Submit ", addr_));
  if (response.outcomes_size() != request.events_size()) {
    return absl::InternalError(Cat("Pipeline.Submit ", addr_, ": ", response.outcomes_size(),
                                   " outcomes for ", request.events_size(), " events"));
  }
  return response;
}

}  // namespace teleclaude::mesh
