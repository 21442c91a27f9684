// teleclaude.mesh.v1.Installer over gRPC (sync API): each handler hands its
// request to the CartridgeInstaller (which queues the work on its worker and
// waits) and converts the status once. No lock is held across any call.
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_INSTALLER_SERVICE_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_INSTALLER_SERVICE_H_

#include "services/installer/cartridge_installer.h"
#include "teleclaude/mesh/v1/installer.grpc.pb.h"

namespace teleclaude::mesh {

// Thread-safe. `installer` is not owned and must outlive the service.
class InstallerService final : public v1::Installer::Service {
 public:
  explicit InstallerService(CartridgeInstaller* installer) : installer_(installer) {}

  grpc::Status OnNotification(grpc::ServerContext* context,
                              const v1::OnNotificationRequest* request,
                              v1::OnNotificationResponse* response) override;
  grpc::Status RecordInvocations(grpc::ServerContext* context,
                                 const v1::RecordInvocationsRequest* request,
                                 v1::RecordInvocationsResponse* response) override;
  grpc::Status ListCartridges(grpc::ServerContext* context,
                              const v1::ListCartridgesRequest* request,
                              v1::ListCartridgesResponse* response) override;
  grpc::Status GetCartridge(grpc::ServerContext* context, const v1::GetCartridgeRequest* request,
                            v1::Cartridge* response) override;
  grpc::Status Activate(grpc::ServerContext* context, const v1::ActivateRequest* request,
                        v1::Cartridge* response) override;
  grpc::Status Reject(grpc::ServerContext* context, const v1::RejectRequest* request,
                      v1::Cartridge* response) override;
  grpc::Status Deactivate(grpc::ServerContext* context, const v1::DeactivateRequest* request,
                          v1::Cartridge* response) override;
  grpc::Status Remove(grpc::ServerContext* context, const v1::RemoveRequest* request,
                      v1::RemoveResponse* response) override;
  grpc::Status GetStats(grpc::ServerContext* context, const v1::GetStatsRequest* request,
                        v1::GetStatsResponse* response) override;
  grpc::Status ListActive(grpc::ServerContext* context, const v1::ListActiveRequest* request,
                          v1::ListActiveResponse* response) override;
  grpc::Status ReportCartridgeFailure(grpc::ServerContext* context,
                                      const v1::ReportCartridgeFailureRequest* request,
                                      v1::Cartridge* response) override;
  grpc::Status SignCartridge(grpc::ServerContext* context, const v1::SignCartridgeRequest* request,
                             v1::SignCartridgeResponse* response) override;

 private:
  CartridgeInstaller* const installer_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_INSTALLER_SERVICE_H_
