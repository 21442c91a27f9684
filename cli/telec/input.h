// Validation of what a person types into telec, before anything is sent:
// JSON options, notification ids, cartridge names, cartridge files; and the
// cartridge.published payload built from them. Pure functions (ReadCartridgeFile
// reads one file); thread-safe. Errors are INVALID_ARGUMENT with a message
// naming the option or argument and the fix.
#ifndef TELECLAUDE_MESH_CLI_TELEC_INPUT_H_
#define TELECLAUDE_MESH_CLI_TELEC_INPUT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/telec/arguments.h"
#include "common/cartridge/runtime.h"

namespace teleclaude::mesh::telec {

// `text` must be a JSON object; returns its canonical text. Errors:
// "--payload: not valid JSON: Missing a comma or '}' after an object member
// at offset 7, near \"2}\"" or "--payload: expected a JSON object, got array".
absl::StatusOr<std::string> ParseJsonObjectOption(std::string_view option, std::string_view text);

// The text of a JSON option as given: "@FILE" reads FILE, "-" reads
// standard input (each at most `max_bytes`), anything else is the text
// itself. Errors: INVALID_ARGUMENT "--payload: cannot read FILE: No such
// file or directory" / "... is larger than N bytes".
absl::StatusOr<std::string> ReadOptionText(std::string_view option, const std::string& value,
                                           int64_t max_bytes);

// A notification id: a positive decimal integer.
absl::StatusOr<int64_t> ParseNotificationId(std::string_view text);

// A non-negative integer option (--limit, --offset).
absl::StatusOr<int32_t> ParseCountOption(std::string_view option, std::string_view text);

// The page a listing command asks for: its --limit N and --offset N
// (ParseCountOption each; 0 when not given, the services' default).
struct Page {
  int32_t limit = 0;
  int32_t offset = 0;
};
absl::StatusOr<Page> ParsePage(const Invocation& invocation);

// ^[a-z0-9][a-z0-9_-]{0,63}$ (DESIGN §5).
bool IsValidCartridgeName(std::string_view name);
// OK, or INVALID_ARGUMENT naming the rule and a valid example.
absl::Status ValidateCartridgeName(std::string_view name);

// Reads a cartridge source file: must exist, be a regular file, be non-empty
// valid UTF-8 of at most `max_bytes` bytes.
absl::StatusOr<std::string> ReadCartridgeFile(const std::string& path, int64_t max_bytes);

// What `cartridges publish` sends.
struct PublishRequest {
  std::string name;
  std::string version;
  std::string event_type;  // "" = any
  std::string runtime = std::string(kLuaRuntime);
  std::string entry_point = "process";
  std::string description;
  std::vector<std::string> dependencies;
  std::string author;
  std::string source;  // UTF-8
};

// The cartridge.published payload (DESIGN §5): name, event_type, version,
// author, code (base64 of the source), entry_point, dependencies,
// description, runtime — as canonical JSON text.
std::string BuildPublishPayload(const PublishRequest& request);

}  // namespace teleclaude::mesh::telec

#endif  // TELECLAUDE_MESH_CLI_TELEC_INPUT_H_
