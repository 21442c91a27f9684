// The transport of the installer's outbox (common/delivery/outbox_transport.h,
// driven by the delivery core's OutboxSender): every message is something
// egress must be told — an event to submit, a notification to resolve, a
// reload of the active cartridges — sent with the egress gRPC client
// (egress_client.h). One destination, "egress"; messages go in outbox order:
// consecutive submits as one Pipeline.Submit, consecutive reloads as one
// call. Message ids: the row's message_id ("installer:{instance_id}:")
// followed by its seq, stable across retries and restarts (egress drops a
// copy: OUTCOME_DUPLICATE).
//
// Outcomes: egress unreachable (or any error a retry may cure) → the rest of
// the batch is offered again after a backoff; a permanent refusal
// (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, UNIMPLEMENTED, ...) or an
// event egress found invalid → refused (logged, counted, never retried).
// Notification ids egress returns are recorded through NotificationLinks
// before the messages count as delivered. Body format: doc/installer-db.md
// "outbox_egress".
//
// Thread-compatible: the installer's OutboxSender thread calls Send.
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_EGRESS_TRANSPORT_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_EGRESS_TRANSPORT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/delivery/outbox_kind.h"
#include "common/delivery/outbox_transport.h"
#include "services/installer/egress_client.h"
#include "services/installer/notification_links.h"

namespace teleclaude::mesh {

// The installer outbox's one destination.
inline constexpr std::string_view kEgressDestination = "egress";

// One message of the installer's outbox. Value type.
struct EgressMessage {
  OutboxKind kind = OutboxKind::kSubmit;  // submit, resolve or reload
  std::string event_type;                 // kSubmit
  std::string envelope_json;              // kSubmit
  std::string cartridge_name;             // the version it is about ("" = none)
  std::string cartridge_sha256;
  int64_t notification_id = 0;  // kResolve: 0 = the version's install_pending
  std::string resolution_json;  // kResolve
};

// The stored body: a JSON object (doc/installer-db.md "outbox_egress").
std::string EncodeEgressMessage(const EgressMessage& message);
// DATA_LOSS naming the field for a body this program did not write (bad
// JSON, an unknown kind, kind push — egress's —, a wrongly typed member).
absl::StatusOr<EgressMessage> DecodeEgressMessage(std::string_view body);

class EgressTransport : public OutboxTransport {
 public:
  // Neither owned; both must outlive the transport.
  EgressTransport(EgressClient* egress, NotificationLinks* links);

  OutboxSendResult Send(const std::vector<OutboxDelivery>& deliveries) override;

 private:
  // Each returns the statuses of messages [i, end) it settled (delivered or
  // refused), or the error that stopped it before settling any.
  absl::StatusOr<std::vector<absl::Status>> SendSubmits(
      const std::vector<OutboxDelivery>& deliveries, const std::vector<EgressMessage>& messages,
      size_t i, size_t end);
  absl::Status SendResolve(const EgressMessage& message);
  absl::Status SendReload();

  EgressClient* const egress_;
  NotificationLinks* const links_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_EGRESS_TRANSPORT_H_
