#include "services/egress/delivery/installer_push.h"

#include <string>

#include "absl/strings/escaping.h"
#include "common/envelope/timestamp_codec.h"
#include "common/json/json_text.h"

namespace teleclaude::mesh {

bool IsInstallerPushType(std::string_view event_type) {
  return event_type.substr(0, 10) == "cartridge.";
}

absl::Status QueueInstallerPush(Outbox* outbox, const v1::NotificationPush& push) {
  std::string bytes;
  push.SerializeToString(&bytes);
  return outbox->Append({kInstallerDestination}, push.push_id(), absl::Base64Escape(bytes))
      .status();
}

absl::StatusOr<v1::NotificationPush> DecodeInstallerPush(std::string_view body) {
  std::string bytes;
  v1::NotificationPush push;
  if (!absl::Base64Unescape(absl::string_view(body.data(), body.size()), &bytes) ||
      !push.ParseFromString(bytes)) {
    return absl::DataLossError("installer push: the stored body does not decode");
  }
  return push;
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
