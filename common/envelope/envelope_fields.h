// Internal to common/envelope: field-level validation shared by the JSON,
// stream and proto codecs (the rules of the Python model, doc/wire.md).
#ifndef TELECLAUDE_MESH_COMMON_ENVELOPE_ENVELOPE_FIELDS_H_
#define TELECLAUDE_MESH_COMMON_ENVELOPE_ENVELOPE_FIELDS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace teleclaude::mesh::envelope_internal {

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
