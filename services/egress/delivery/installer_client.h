// Egress's calls into the installer (teleclaude.mesh.v1.Installer): pushes,
// invocation batches, the active cartridge set and failure reports. Every
// call has a deadline; failures come back as statuses
// ("Installer.OnNotification 127.0.0.1:50053: ..."), the callers retry.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_INSTALLER_CLIENT_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_INSTALLER_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/grpc/channel.h"
#include "teleclaude/mesh/v1/installer.grpc.pb.h"

namespace teleclaude::mesh {

// Thread-safe (a gRPC stub is). Connects lazily.
class InstallerClient {
 public:
  // `channel` carries this computer's service token (the installer accepts
  // these calls only from its services).
  InstallerClient(std::string addr, absl::Duration timeout, const ChannelOptions& channel);

  const std::string& addr() const { return addr_; }

  absl::Status OnNotification(const v1::OnNotificationRequest& request);
  absl::Status RecordInvocations(const v1::RecordInvocationsRequest& request);
  absl::StatusOr<v1::ListActiveResponse> ListActive();
  absl::Status ReportCartridgeFailure(const v1::ReportCartridgeFailureRequest& request);

 private:
  std::unique_ptr<grpc::ClientContext> Context() const;

  const std::string addr_;
  const absl::Duration timeout_;
  const std::unique_ptr<v1::Installer::Stub> stub_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_INSTALLER_CLIENT_H_
