// Installer pushes through the outbox (doc/events-db.md): the notification
// projector's push callback and ResolveNotification queue a NotificationPush
// as an outbox row of kind `push` in the batch transaction; the push sender
// delivers rows in batches with Installer.OnNotification, retried until the
// installer confirms. Each push has a stable push_id so that a re-sent push
// is acted on once. Pure functions; thread-safe.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_INSTALLER_PUSH_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_INSTALLER_PUSH_H_

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/egress/storage/events_db.h"
#include "teleclaude/mesh/v1/installer.pb.h"

namespace teleclaude::mesh {

// Only `cartridge.*` notifications are pushed to the installer.
bool IsInstallerPushType(std::string_view event_type);

// Appends `push` as an outbox row (destination "installer", message_id =
// push_id). REQUIRES: push.push_id() is set; inside the worker's transaction.
absl::Status QueueInstallerPush(EventsDb* db, const v1::NotificationPush& push);

// The OnNotification request for outbox rows of kind push. A row whose body
// does not decode (never written by this code) is INTERNAL.
absl::StatusOr<v1::OnNotificationRequest> PushRequestFromRows(const std::vector<OutboxRow>& rows);

// The envelope of a notification row (for resolve pushes).
EventEnvelope EnvelopeFromNotification(const NotificationRow& row);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_INSTALLER_PUSH_H_
