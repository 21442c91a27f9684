// Ingress' calls into egress: Pipeline.Submit (proto/teleclaude/mesh/v1/
// pipeline.proto).
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_PIPELINE_CLIENT_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_PIPELINE_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/grpc/channel.h"
#include "teleclaude/mesh/v1/pipeline.grpc.pb.h"

namespace teleclaude::mesh {

// Thread-safe (a gRPC stub is).
class PipelineClient {
 public:
  // Connects lazily to `addr`; each call waits at most `timeout`.
  // `channel`: its max_message_bytes bounds requests and responses; its
  // auth_token is this computer's service token (egress accepts mesh-origin
  // events only from its services).
  PipelineClient(std::string addr, absl::Duration timeout, const ChannelOptions& channel);

  const std::string& addr() const { return addr_; }

  // One Submit. Returns the outcomes, one per event in request order.
  // Errors: the gRPC status as "Pipeline.Submit <addr>: ..." (UNAVAILABLE
  // when egress is down, RESOURCE_EXHAUSTED when the request is too large
  // for it); INTERNAL when the outcome count does not match.
  absl::StatusOr<v1::SubmitResponse> Submit(const v1::SubmitRequest& request);

 private:
  const std::string addr_;
  const absl::Duration timeout_;
  const std::unique_ptr<v1::Pipeline::Stub> stub_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_PIPELINE_CLIENT_H_
