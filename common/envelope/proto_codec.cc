// Protobuf codec: see proto_codec.h.
#include "common/envelope/proto_codec.h"

#include <string>

#include "absl/status/status.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/base/utf8.h"
#include "common/envelope/envelope_fields.h"
#include "common/envelope/timestamp_codec.h"
#include "common/json/json_text.h"

namespace teleclaude::mesh {
namespace {

using envelope_internal::FieldError;
using json::NonFinite;
namespace pb = teleclaude::mesh::v1;

using envelope_internal::DeclaredFieldIndex;

absl::Status Utf8(std::string_view field, const std::string& value) {
  if (IsValidUtf8(value)) return absl::OkStatus();
  return FieldError(field, "not valid UTF-8");
}

absl::StatusOr<std::string> Canonical(std::string_view field, const std::string& text) {
  absl::StatusOr<std::string> c = json::Canonicalize(text, NonFinite::kKeep);
  if (!c.ok()) return FieldError(field, ToStd(c.status().message()));
  return c;
}

}  // namespace

void EnvelopeToProto(const EventEnvelope& e, pb::EventEnvelope* out) {
  out->Clear();
  out->set_event(e.event);
  out->set_version(e.version);
  out->set_source(e.source);
  out->set_timestamp(FormatTimestampMesh(e.timestamp));
  if (e.idempotency_key) out->set_idempotency_key(*e.idempotency_key);
  out->set_level(static_cast<pb::EventLevel>(static_cast<int>(e.level)));
  out->set_domain(e.domain);
  if (e.entity) out->set_entity(*e.entity);
  out->set_description(e.description);
  out->set_visibility(static_cast<pb::EventVisibility>(static_cast<int>(e.visibility)));
  out->set_payload_json(e.payload_json);
  if (e.actions_json) out->set_actions_json(*e.actions_json);
  if (e.terminal_when) out->set_terminal_when(*e.terminal_when);
  if (e.resolution_shape_json) {
    out->set_resolution_shape_json(*e.resolution_shape_json);
  }
  if (!e.extras.empty()) {
    std::string extra = "{";
    bool first = true;
    for (const auto& [key, value] : e.extras) {
      if (!first) extra.push_back(',');
      first = false;
      json::AppendQuoted(key, &extra);
      extra.push_back(':');
      extra.append(value.empty() ? std::string_view("null") : std::string_view(value));
    }
    extra.push_back('}');
    out->set_extra_json(std::move(extra));
  }
}

absl::StatusOr<EventEnvelope> EnvelopeFromProto(const pb::EventEnvelope& p) {
  EventEnvelope e;
  if (p.event().empty()) return FieldError("event", "must not be empty");
  TM_RETURN_IF_ERROR(Utf8("event", p.event()));
  e.event = p.event();
  e.version = p.version();
  if (p.source().empty()) return FieldError("source", "must not be empty");
  TM_RETURN_IF_ERROR(Utf8("source", p.source()));
  e.source = p.source();
  if (!p.timestamp().empty()) {
    absl::StatusOr<Timestamp> ts = ParseTimestamp(p.timestamp());
    if (!ts.ok()) {
      return FieldError("timestamp",
                        Cat("not a valid date-time (", ToStd(ts.status().message()), "), got \"",
                            envelope_internal::Shorten(p.timestamp()), "\""));
    }
    e.timestamp = *ts;
  }
  if (p.has_idempotency_key()) {
    TM_RETURN_IF_ERROR(Utf8("idempotency_key", p.idempotency_key()));
    e.idempotency_key = p.idempotency_key();
  }
  int level = static_cast<int>(p.level());
  if (level < 0 || level > 3) {
    return FieldError("level",
                      Cat("must be an integer 0-3 (INFRASTRUCTURE..BUSINESS), got ", level));
  }
  e.level = static_cast<Level>(level);
  TM_RETURN_IF_ERROR(Utf8("domain", p.domain()));
  e.domain = p.domain();
  if (p.has_entity()) {
    TM_RETURN_IF_ERROR(Utf8("entity", p.entity()));
    e.entity = p.entity();
  }
  TM_RETURN_IF_ERROR(Utf8("description", p.description()));
  e.description = p.description();
  int visibility = static_cast<int>(p.visibility());
  if (visibility < 0 || visibility > 2) {
    return FieldError("visibility", Cat("must be local (0), cluster (1) or public "
                                        "(2), got ",
                                        visibility));
  }
  e.visibility = static_cast<Visibility>(visibility);
  if (!p.payload_json().empty()) {
    TM_ASSIGN_OR_RETURN(e.payload_json,
                        json::CanonicalizeObject(p.payload_json(), "payload", NonFinite::kKeep));
  }
  if (p.has_actions_json()) {
    TM_ASSIGN_OR_RETURN(std::string actions, Canonical("actions", p.actions_json()));
    if (actions.front() == '{') {
      TM_ASSIGN_OR_RETURN(e.actions_json, envelope_internal::NormalizeActions(actions));
    } else if (actions != "null") {
      return FieldError(
          "actions", Cat("expected a JSON object or null, got ", json::KindOfCanonical(actions)));
    }
  }
  if (p.has_terminal_when()) {
    TM_RETURN_IF_ERROR(Utf8("terminal_when", p.terminal_when()));
    e.terminal_when = p.terminal_when();
  }
  if (p.has_resolution_shape_json()) {
    TM_ASSIGN_OR_RETURN(std::string shape,
                        Canonical("resolution_shape", p.resolution_shape_json()));
    if (shape.front() == '{') {
      TM_RETURN_IF_ERROR(envelope_internal::CheckStringMap(shape, "resolution_shape"));
      e.resolution_shape_json = std::move(shape);
    } else if (shape != "null") {
      return FieldError("resolution_shape",
                        Cat("expected a JSON object or null, got ", json::KindOfCanonical(shape)));
    }
  }
  if (!p.extra_json().empty()) {
    TM_ASSIGN_OR_RETURN(std::string extra,
                        json::CanonicalizeObject(p.extra_json(), "extra_json", NonFinite::kKeep));
    absl::Status status;
    json::ForEachMember(extra, [&](const std::string& key, std::string_view v) {
      if (!status.ok()) return;
      if (DeclaredFieldIndex(key) >= 0) {
        status =
            FieldError("extra_json", Cat("key \"", key, "\" repeats a declared envelope field"));
        return;
      }
      e.extras.emplace_back(key, std::string(v));
    });
    TM_RETURN_IF_ERROR(status);
  }
  return e;
}

}  // namespace teleclaude::mesh
