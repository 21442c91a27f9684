#include "services/egress/delivery/installer_push.h"

#include <string>

#include "absl/strings/escaping.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/envelope/timestamp_codec.h"
#include "common/json/json_text.h"

namespace teleclaude::mesh {

bool IsInstallerPushType(std::string_view event_type) {
  return event_type.substr(0, 10) == "cartridge.";
}

absl::Status QueueInstallerPush(EventsDb* db, const v1::NotificationPush& push) {
  std::string bytes;
  push.SerializeToString(&bytes);
  // Base64 keeps the TEXT column valid UTF-8.
  std::string body = absl::Base64Escape(bytes);
  TM_ASSIGN_OR_RETURN(int64_t id, db->AddPushOutbox("installer", push.push_id(), body));
  (void)id;
  return absl::OkStatus();
}

absl::StatusOr<v1::OnNotificationRequest> PushRequestFromRows(const std::vector<OutboxRow>& rows) {
  v1::OnNotificationRequest request;
  for (const OutboxRow& row : rows) {
    std::string bytes;
    if (!absl::Base64Unescape(row.body, &bytes) || !request.add_pushes()->ParseFromString(bytes)) {
      return absl::InternalError(Cat("outbox row ", row.id, ": push body does not decode"));
    }
  }
  return request;
}

EventEnvelope EnvelopeFromNotification(const NotificationRow& row) {
  EventEnvelope e;
  e.event = row.event_type;
  e.version = row.version;
  e.source = row.source;
  e.level = static_cast<Level>(row.level);
  e.domain = row.domain;
  e.entity = row.entity;
  e.description = row.description;
  e.visibility = ParseVisibility(row.visibility).value_or(Visibility::kLocal);
  absl::StatusOr<std::string> payload = json::CanonicalizeObject(row.payload_json, "payload");
  e.payload_json = payload.ok() ? *payload : "{}";
  e.idempotency_key = row.idempotency_key;
  absl::StatusOr<Timestamp> ts = ParseTimestampIsoformat(row.created_at);
  if (ts.ok()) e.timestamp = *ts;
  return e;
}

}  // namespace teleclaude::mesh
