// Event schemas (DESIGN §5): what the catalog knows about one event type.
// Semantics of TeleClaude's teleclaude/events/catalog.py (EventSchema,
// NotificationLifecycle).
#ifndef TELECLAUDE_MESH_COMMON_CATALOG_EVENT_SCHEMA_H_
#define TELECLAUDE_MESH_COMMON_CATALOG_EVENT_SCHEMA_H_

#include <optional>
#include <string>
#include <vector>

#include "common/envelope/envelope.h"

namespace teleclaude::mesh {

// How events of a type act on the `notifications` projection (DESIGN §4,
// notification-projector). Value type; thread-compatible.
//
//   creates            — the event creates a notification.
//   updates            — the event updates the notification whose group key
//                        (payload[group_key]) matches; only changes to
//                        `meaningful_fields` count as meaningful (they reset
//                        the human-attention state), changes to
//                        `silent_fields` do not.
//   resolves           — the event resolves the notification whose group key
//                        matches.
// A schema may combine creates+updates (upsert by group key).
struct NotificationLifecycle {
  bool creates = false;
  bool updates = false;
  bool resolves = false;
  std::optional<std::string> group_key;
  std::vector<std::string> meaningful_fields;
  std::vector<std::string> silent_fields;

  friend bool operator==(const NotificationLifecycle&, const NotificationLifecycle&) = default;
};

// One catalogued event type. Value type; thread-compatible.
struct EventSchema {
  std::string event_type;
  std::string description;
  Level default_level = Level::kInfrastructure;
  std::string domain;
  Visibility default_visibility = Visibility::kLocal;
  // Payload fields whose values, joined after the type, form the
  // idempotency key (see EventCatalog::BuildIdempotencyKey). Empty = the type
  // has no idempotency key.
  std::vector<std::string> idempotency_fields;
  // nullopt = events of this type never touch the notification projection.
  std::optional<NotificationLifecycle> lifecycle;
  // The notification asks a human (or an agent) to act.
  bool actionable = false;

  friend bool operator==(const EventSchema&, const EventSchema&) = default;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_CATALOG_EVENT_SCHEMA_H_
