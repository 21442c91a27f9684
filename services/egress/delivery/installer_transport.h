// The transport of egress's push outbox (common/delivery/outbox_transport.h,
// driven by the delivery core's OutboxSender): every message is a
// NotificationPush for the installer (installer_push.h), delivered with
// Installer.OnNotification — the deliveries of a round in one call.
//
// Outcomes: the installer unreachable, or any error a retry may cure → the
// round's pushes are offered again after a backoff (nothing is lost while the
// installer is down or restarting). A permanent refusal of the batch
// (IsPermanentError: e.g. INVALID_ARGUMENT for a push it cannot read) → each
// push is sent again on its own, so that only the one refused is dropped
// (counted and logged) and the others are delivered. A body that does not
// decode is refused without a call.
//
// Thread-compatible: the push OutboxSender's thread calls Send.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_INSTALLER_TRANSPORT_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_INSTALLER_TRANSPORT_H_

#include <vector>

#include "common/delivery/outbox_transport.h"
#include "services/egress/delivery/installer_client.h"

namespace teleclaude::mesh {

class InstallerTransport : public OutboxTransport {
 public:
  // Not owned; must outlive the transport.
  explicit InstallerTransport(InstallerClient* installer) : installer_(installer) {}

  OutboxSendResult Send(const std::vector<OutboxDelivery>& deliveries) override;

 private:
  InstallerClient* const installer_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_INSTALLER_TRANSPORT_H_
