// Client channels between our processes, and the one place where
// absl::Status and grpc::Status convert into each other.
#ifndef TELECLAUDE_MESH_COMMON_GRPC_CHANNEL_H_
#define TELECLAUDE_MESH_COMMON_GRPC_CHANNEL_H_

#include <grpcpp/channel.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace teleclaude::mesh {

struct ChannelOptions {
  // Largest message, bytes, both directions (--max_message_bytes).
  int max_message_bytes = 4 * 1024 * 1024;
  // When not empty, every call on the channel carries the metadata
  // "authorization: Bearer <auth_token>" (call_authenticator.h): the service
  // token between the computer's services, the owner token from telec.
  std::string auth_token;
};

// An insecure channel to `addr` ("host:port"; our services listen on
// loopback). Keepalive every 30 s (also without calls), reconnect backoff
// 100 ms .. 2 s, so a restarted peer service is found again quickly. The
// channel connects lazily; calls made while the target is down fail with
// UNAVAILABLE (use WaitForReady on the ClientContext to queue instead).
// With options.auth_token, a client interceptor adds the token to every
// call.
// Thread-safe (a grpc::Channel is).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& addr,
                                           const ChannelOptions& options = {});

// grpc::Status -> absl::Status with the same code; message
// "<what>: <grpc message>" (e.g. "Pipeline.Submit 127.0.0.1:50051: failed to
// connect to all addresses"). OK stays OK.
absl::Status FromGrpcStatus(const grpc::Status& status, std::string_view what);

// absl::Status -> grpc::Status with the same code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_CHANNEL_H_
