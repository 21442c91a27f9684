#include "services/ingress/rejection_event.h"

#include "common/base/strings.h"
#include "common/json/writer.h"

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

  event.payload_json.clear();  // the default is "{}"
  json::Writer w(&event.payload_json);
  w.BeginObject();
  w.Key("source_computer").OptionalString(rejection.source_computer);
  if (rejection.event_type.has_value()) w.Key("event_type").String(*rejection.event_type);
  w.Key("reason").String(rejection.reason);
  w.Key("detail").String(rejection.detail);
  w.Key("raw").String(rejection.raw);
  w.Key("stream_entry_id").String(stream_entry_id);
  w.EndObject();
  return event;
}

std::string RejectionMessageId(std::string_view stream_entry_id) {
  return Cat("rejected:", stream_entry_id);
}

}  // namespace teleclaude::mesh
