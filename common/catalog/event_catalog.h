// The event catalog (DESIGN §5): a registry of EventSchema by event type,
// with the idempotency-key rule shared with Python TeleClaude
// (teleclaude/events/catalog.py).
#ifndef TELECLAUDE_MESH_COMMON_CATALOG_EVENT_CATALOG_H_
#define TELECLAUDE_MESH_COMMON_CATALOG_EVENT_CATALOG_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/catalog/event_schema.h"

namespace teleclaude::mesh {

// Registry of event schemas keyed by event type.
//
// Thread-safety: fill it with Register() while it is owned by one thread
// (BuildDefaultCatalog() does), then treat it as immutable: after that every
// const method is safe to call from any number of threads at once. Register()
// must never run concurrently with anything else. Movable, not copyable
// (pointers returned by Find/ListAll stay valid across a move of the catalog
// and for as long as the catalog lives).
class EventCatalog {
 public:
  EventCatalog() = default;
  EventCatalog(EventCatalog&&) = default;
  EventCatalog& operator=(EventCatalog&&) = default;
  EventCatalog(const EventCatalog&) = delete;
  EventCatalog& operator=(const EventCatalog&) = delete;

  // Adds `schema`. Errors: ALREADY_EXISTS when its event_type is registered
  // ("event type already registered: <type>"); INVALID_ARGUMENT when
  // event_type is empty.
  absl::Status Register(EventSchema schema);

  // The schema of `event_type`, or nullptr when the type is not catalogued.
  // The pointer is owned by the catalog.
  const EventSchema* Find(std::string_view event_type) const;

  // Every schema, sorted by event_type. Pointers owned by the catalog.
  std::vector<const EventSchema*> ListAll() const;

  // Number of registered schemas.
  size_t size() const { return schemas_.size(); }

  // The idempotency key of an event, exactly as Python's
  //   ":".join([event_type] + [str(payload.get(f, "")) for f in fields])
  // i.e. the event type, then for each idempotency field the Python str() of
  // payload[field] ("" when missing; strings verbatim, ints as digits,
  // True/False/None, nested objects/lists as Python's repr), joined by ":".
  // `payload_json` is the envelope's payload JSON object text.
  // Returns nullopt when the type is not catalogued or has no idempotency
  // fields. A payload that is not a JSON object counts as an empty object.
  std::optional<std::string> BuildIdempotencyKey(std::string_view event_type,
                                                 std::string_view payload_json) const;

 private:
  // std::map: node-based (stable pointers) and iterates sorted by type.
  std::map<std::string, EventSchema, std::less<>> schemas_;
};

// A catalog with every built-in schema: the cartridge.* and mesh.* types of
// DESIGN §5 plus the schemas ported from TeleClaude's
// teleclaude/events/schemas/*.py (system.*, node.*, deployment.*,
// notification.*, content.*, schema.*, signal.*, ...). Never fails (the
// built-in table has no duplicates; a duplicate is a programming error and
// CHECK-fails).
EventCatalog BuildDefaultCatalog();

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_CATALOG_EVENT_CATALOG_H_
