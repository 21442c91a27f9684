// teleclaude.mesh.v1.Readiness (proto/teleclaude/mesh/v1/readiness.proto):
// what a HealthMonitor's probes found, for `telec status` and `telec health`.
#ifndef TELECLAUDE_MESH_COMMON_GRPC_READINESS_SERVICE_H_
#define TELECLAUDE_MESH_COMMON_GRPC_READINESS_SERVICE_H_

#include "teleclaude/mesh/v1/readiness.grpc.pb.h"

namespace teleclaude::mesh {

class HealthMonitor;

// Thread-safe; answers from the monitor's last results (never runs a
// probe). `monitor` is not owned and outlives the service.
class ReadinessService final : public v1::Readiness::CallbackService {
 public:
  explicit ReadinessService(const HealthMonitor* monitor) : monitor_(monitor) {}

  grpc::ServerUnaryReactor* GetReadiness(grpc::CallbackServerContext* context,
                                         const v1::GetReadinessRequest* request,
                                         v1::GetReadinessResponse* response) override;

 private:
  const HealthMonitor* const monitor_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_READINESS_SERVICE_H_
