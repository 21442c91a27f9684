#include "services/ingress/rejection_event.h"

#include "common/base/strings.h"
#include "common/envelope/json_text.h"

namespace teleclaude::mesh {

EventEnvelope BuildRejectionEvent(const Rejection& rejection, std::string_view self_name,
                                  std::string_view stream_entry_id) {
  EventEnvelope event;
  event.event = std::string(kMeshEventRejected);
  event.source = std::string(self_name);
  event.timestamp = Timestamp::NowUtc();
  event.level = Level::kOperational;
  event.domain = "mesh";
  event.visibility = Visibility::kLocal;
  const std::string source =
      rejection.source_computer.has_value() ? *rejection.source_computer : "(unknown)";
  if (rejection.source_computer.has_value()) event.entity = Cat("mesh/", source);
  event.description = Cat("Event ", rejection.event_type.value_or("(unknown type)"), " from ",
                          source, " rejected: ", rejection.reason);

  std::string payload = "{\"source_computer\":";
  if (rejection.source_computer.has_value()) {
    json::AppendQuoted(*rejection.source_computer, &payload);
  } else {
    payload += "null";
  }
  if (rejection.event_type.has_value()) {
    payload += ",\"event_type\":";
    json::AppendQuoted(*rejection.event_type, &payload);
  }
  payload += ",\"reason\":";
  json::AppendQuoted(rejection.reason, &payload);
  payload += ",\"detail\":";
  json::AppendQuoted(rejection.detail, &payload);
  payload += ",\"raw\":";
  json::AppendQuoted(rejection.raw, &payload);
  payload += ",\"stream_entry_id\":";
  json::AppendQuoted(stream_entry_id, &payload);
  payload += "}";
  event.payload_json = std::move(payload);
  return event;
}

std::string RejectionMessageId(std::string_view stream_entry_id) {
  return Cat("rejected:", stream_entry_id);
}

}  // namespace teleclaude::mesh
