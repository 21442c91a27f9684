#include "services/installer/installer_service.h"

#include "common/grpc/channel.h"

namespace teleclaude::mesh {
namespace {

template <typename T>
grpc::Status Reply(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status InstallerService::OnNotification(grpc::ServerContext*,
                                              const v1::OnNotificationRequest* request,
                                              v1::OnNotificationResponse*) {
  return ToGrpcStatus(installer_->OnNotification(*request));
}

grpc::Status InstallerService::RecordInvocations(grpc::ServerContext*,
                                                 const v1::RecordInvocationsRequest* request,
                                                 v1::RecordInvocationsResponse* response) {
  return Reply(installer_->RecordInvocations(*request), response);
}

grpc::Status InstallerService::ListCartridges(grpc::ServerContext*,
                                              const v1::ListCartridgesRequest*,
                                              v1::ListCartridgesResponse* response) {
  return Reply(installer_->ListCartridges(), response);
}

grpc::Status InstallerService::GetCartridge(grpc::ServerContext*,
                                            const v1::GetCartridgeRequest* request,
                                            v1::Cartridge* response) {
  return Reply(installer_->GetCartridge(request->name()), response);
}

grpc::Status InstallerService::Activate(grpc::ServerContext*, const v1::ActivateRequest* request,
                                        v1::Cartridge* response) {
  return Reply(installer_->Activate(request->name(), request->decided_by()), response);
}

grpc::Status InstallerService::Reject(grpc::ServerContext*, const v1::RejectRequest* request,
                                      v1::Cartridge* response) {
  return Reply(installer_->Reject(request->name(), request->decided_by(), request->reason()),
               response);
}

grpc::Status InstallerService::Deactivate(grpc::ServerContext*,
                                          const v1::DeactivateRequest* request,
                                          v1::Cartridge* response) {
  return Reply(installer_->Deactivate(request->name(), request->decided_by(), request->reason()),
               response);
}

grpc::Status InstallerService::Remove(grpc::ServerContext*, const v1::RemoveRequest* request,
                                      v1::RemoveResponse* response) {
  return Reply(installer_->Remove(request->name(), request->decided_by(), request->reason()),
               response);
}

grpc::Status InstallerService::GetStats(grpc::ServerContext*, const v1::GetStatsRequest*,
                                        v1::GetStatsResponse* response) {
  return Reply(installer_->GetStats(), response);
}

grpc::Status InstallerService::ListActive(grpc::ServerContext*, const v1::ListActiveRequest*,
                                          v1::ListActiveResponse* response) {
  return Reply(installer_->ListActive(), response);
}

grpc::Status InstallerService::ReportCartridgeFailure(
    grpc::ServerContext*, const v1::ReportCartridgeFailureRequest* request,
    v1::Cartridge* response) {
  return Reply(installer_->ReportCartridgeFailure(*request), response);
}

grpc::Status InstallerService::SignCartridge(grpc::ServerContext*,
                                             const v1::SignCartridgeRequest* request,
                                             v1::SignCartridgeResponse* response) {
  return Reply(installer_->SignCartridge(request->payload_json()), response);
}

}  // namespace teleclaude::mesh
