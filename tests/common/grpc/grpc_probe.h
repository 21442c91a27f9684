// Client-side probes of the standard services every server of ours carries,
// spoken in raw protobuf wire format because Debian's gRPC ships neither
// health.proto nor reflection.proto generated code. For tests and tools.
#ifndef TELECLAUDE_MESH_TESTS_COMMON_GRPC_GRPC_PROBE_H_
#define TELECLAUDE_MESH_TESTS_COMMON_GRPC_GRPC_PROBE_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace teleclaude::mesh::testing {

// grpc.health.v1.HealthCheckResponse.ServingStatus values.
enum class HealthStatus { kUnknown = 0, kServing = 1, kNotServing = 2 };

// grpc.health.v1.Health/Check for `service` ("" = the whole server).
// Errors: the call's status (NOT_FOUND for a service health does not know).
absl::StatusOr<HealthStatus> HealthCheck(const std::shared_ptr<grpc::Channel>& channel,
                                         const std::string& service,
                                         absl::Duration timeout = absl::Seconds(5));

// grpc.reflection.v1alpha.ServerReflection list_services: every service the
// server exposes, sorted.
absl::StatusOr<std::vector<std::string>> ListServices(const std::shared_ptr<grpc::Channel>& channel,
                                                      absl::Duration timeout = absl::Seconds(5));

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_COMMON_GRPC_GRPC_PROBE_H_
