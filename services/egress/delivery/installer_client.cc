#include "services/egress/delivery/installer_client.h"

#include <chrono>
#include <utility>

#include "common/base/strings.h"
#include "common/grpc/channel.h"

namespace teleclaude::mesh {

InstallerClient::InstallerClient(std::string addr, absl::Duration timeout,
                                 const ChannelOptions& channel)
    : addr_(std::move(addr)),
      timeout_(timeout),
      stub_(v1::Installer::NewStub(MakeChannel(addr_, channel))) {}

std::unique_ptr<grpc::ClientContext> InstallerClient::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout_)));
  return context;
}

absl::Status InstallerClient::OnNotification(const v1::OnNotificationRequest& request) {
  v1::OnNotificationResponse response;
  auto context = Context();
  return FromGrpcStatus(stub_->OnNotification(context.get(), request, &response),
                        Cat("Installer.OnNotification ", addr_));
}

absl::Status InstallerClient::RecordInvocations(const v1::RecordInvocationsRequest& request) {
  v1::RecordInvocationsResponse response;
  auto context = Context();
  return FromGrpcStatus(stub_->RecordInvocations(context.get(), request, &response),
                        Cat("Installer.RecordInvocations ", addr_));
}

absl::StatusOr<v1::ListActiveResponse> InstallerClient::ListActive() {
  v1::ListActiveResponse response;
  auto context = Context();
  absl::Status s = FromGrpcStatus(stub_->ListActive(context.get(), {}, &response),
                                  Cat("Installer.ListActive ", addr_));
  if (!s.ok()) return s;
  return response;
}

absl::Status InstallerClient::ReportCartridgeFailure(
    const v1::ReportCartridgeFailureRequest& request) {
  v1::Cartridge response;
  auto context = Context();
  return FromGrpcStatus(stub_->ReportCartridgeFailure(context.get(), request, &response),
                        Cat("Installer.ReportCartridgeFailure ", addr_));
}

}  // namespace teleclaude::mesh
