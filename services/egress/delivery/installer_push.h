// Installer pushes through the delivery core's outbox "push" (tables
// outbox_push*, doc/events-db.md "Outboxes"): the notification projector's
// push callback and ResolveNotification append a NotificationPush in the
// pipeline worker's transaction; an OutboxSender delivers them in batches
// through InstallerTransport (installer_transport.h), retried until the
// installer confirms. Each push has a stable push_id (the message id) so that
// a re-sent push is acted on once. Pure functions; thread-safe.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_INSTALLER_PUSH_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_INSTALLER_PUSH_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/delivery/outbox.h"
#include "services/egress/storage/events_db.h"
#include "teleclaude/mesh/v1/installer.pb.h"

namespace teleclaude::mesh {

// Only `cartridge.*` notifications are pushed to the installer.
bool IsInstallerPushType(std::string_view event_type);

// The push outbox's one destination.
inline constexpr std::string_view kInstallerDestination = "installer";

// Appends `push` to `outbox` (destination "installer", message id = push_id,
// body = the serialized push in base64, which keeps rows written before the
// move readable). REQUIRES: push.push_id() is set; on the worker thread
// inside its transaction (a round or PipelineWorker::Transact).
absl::Status QueueInstallerPush(Outbox* outbox, const v1::NotificationPush& push);

// The push a body of QueueInstallerPush holds; DATA_LOSS for a body this
// program did not write (a database file is input like any other).
absl::StatusOr<v1::NotificationPush> DecodeInstallerPush(std::string_view body);

// The envelope of a notification row (for resolve pushes).
EventEnvelope EnvelopeFromNotification(const NotificationRow& row);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_INSTALLER_PUSH_H_
