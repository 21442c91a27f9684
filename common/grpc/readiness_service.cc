#include "common/grpc/readiness_service.h"

#include "common/grpc/health_monitor.h"

namespace teleclaude::mesh {

grpc::ServerUnaryReactor* ReadinessService::GetReadiness(grpc::CallbackServerContext* context,
                                                         const v1::GetReadinessRequest*,
                                                         v1::GetReadinessResponse* response) {
  *response = monitor_->Report();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace teleclaude::mesh
