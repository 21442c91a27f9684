// Internal to common/envelope: field-level validation shared by the JSON,
// stream and proto codecs (the rules of the Python model, doc/wire.md).
#ifndef TELECLAUDE_MESH_COMMON_ENVELOPE_ENVELOPE_FIELDS_H_
#define TELECLAUDE_MESH_COMMON_ENVELOPE_ENVELOPE_FIELDS_H_

#include <array>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace teleclaude::mesh::envelope_internal {

// The declared fields of the envelope, in declared order (the order of
// model_dump_json and of pydantic's error reports).
enum DeclaredField : int {
  kEvent,
  kVersion,
  kSource,
  kTimestamp,
  kIdempotencyKey,
  kLevel,
  kDomain,
  kEntity,
  kDescription,
  kVisibility,
  kPayload,
  kActions,
  kTerminalWhen,
  kResolutionShape,
  kDeclaredFieldCount,
};

inline constexpr std::array<std::string_view, kDeclaredFieldCount> kDeclaredFieldNames = {
    "event",   "version", "source",        "timestamp",       "idempotency_key",
    "level",   "domain",  "entity",        "description",     "visibility",
    "payload", "actions", "terminal_when", "resolution_shape"};

// The DeclaredField named `name`, or -1 (one comparison: the first letter
// and the length pick the candidate).
inline int DeclaredFieldIndex(std::string_view name) {
  if (name.size() < 5 || name.size() > 16) return -1;
  int candidate = -1;
  switch (name[0]) {
    case 'e':
      candidate = name.size() == 5 ? kEvent : kEntity;
      break;
    case 'v':
      candidate = name.size() == 7 ? kVersion : kVisibility;
      break;
    case 's':
      candidate = kSource;
      break;
    case 't':
      candidate = name.size() == 9 ? kTimestamp : kTerminalWhen;
      break;
    case 'i':
      candidate = kIdempotencyKey;
      break;
    case 'l':
      candidate = kLevel;
      break;
    case 'd':
      candidate = name.size() == 6 ? kDomain : kDescription;
      break;
    case 'p':
      candidate = kPayload;
      break;
    case 'a':
      candidate = kActions;
      break;
    case 'r':
      candidate = kResolutionShape;
      break;
    default:
      return -1;
  }
  return kDeclaredFieldNames[candidate] == name ? candidate : -1;
}

// InvalidArgument "<field>: <message>".
absl::Status FieldError(std::string_view field, std::string_view message);

// Checks canonical `actions` text (an object of {description, produces,
// outcome_shape?}) and returns it rebuilt as the model writes it: only the
// three declared keys, in declared order, `outcome_shape` null when absent.
// Errors name the path, e.g. "actions.retry.produces: field required".
absl::StatusOr<std::string> NormalizeActions(std::string_view canonical);

// Checks canonical `resolution_shape` text: an object whose values are all
// strings. Errors like "resolution_shape.a: expected a string, got number".
absl::Status CheckStringMap(std::string_view canonical, std::string_view path);

// For error messages: a short rendering of canonical value text.
std::string Shorten(std::string_view text);

}  // namespace teleclaude::mesh::envelope_internal

#endif  // TELECLAUDE_MESH_COMMON_ENVELOPE_ENVELOPE_FIELDS_H_
