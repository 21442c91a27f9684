#include "common/catalog/event_catalog.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/json/json_text.h"

namespace teleclaude::mesh {

absl::Status EventCatalog::Register(EventSchema schema) {
  if (schema.event_type.empty()) {
    return absl::InvalidArgumentError("event_type: empty; every schema needs an event type");
  }
  auto [it, inserted] = schemas_.try_emplace(schema.event_type);
  if (!inserted) {
    return absl::AlreadyExistsError(
        absl::StrCat("event type already registered: ", schema.event_type));
  }
  it->second = std::move(schema);
  return absl::OkStatus();
}

const EventSchema* EventCatalog::Find(std::string_view event_type) const {
  auto it = schemas_.find(event_type);
  return it == schemas_.end() ? nullptr : &it->second;
}

std::vector<const EventSchema*> EventCatalog::ListAll() const {
  std::vector<const EventSchema*> all;
  all.reserve(schemas_.size());
  for (const auto& [type, schema] : schemas_) all.push_back(&schema);
  return all;
}

std::optional<std::string> EventCatalog::BuildIdempotencyKey(std::string_view event_type,
                                                             std::string_view payload_json) const {
  const EventSchema* schema = Find(event_type);
  if (schema == nullptr || schema->idempotency_fields.empty()) {
    return std::nullopt;
  }
  std::string key(event_type);
  for (const std::string& field : schema->idempotency_fields) {
    key.push_back(':');
    // payload.get(field, "") -> str(): a missing field (or a payload that is
    // not an object) contributes "".
    std::optional<std::string> value = json::GetMember(payload_json, field);
    if (value.has_value()) key += json::PythonStr(*value);
  }
  return key;
}

}  // namespace teleclaude::mesh
