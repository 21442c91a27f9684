// Validation of a `cartridge.published` payload (DESIGN §5) into the
// cartridge the installer's gate decides on. Nothing from the mesh is trusted:
// the name is checked against ^[a-z0-9][a-z0-9_-]{0,63}$ before it may ever
// name a file, the code must be base64 of valid UTF-8 within the size limit,
// version and author must be non-empty and the runtime must be one of
// kSupportedRuntimes (or inferred: ResolveRuntime). Pure functions; thread-safe.
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_CARTRIDGE_PAYLOAD_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_CARTRIDGE_PAYLOAD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cartridge/runtime.h"
#include "common/mesh/cartridge_signature.h"

namespace teleclaude::mesh {

// A validated cartridge. Value type; thread-compatible.
struct CartridgeCandidate {
  std::string name;         // matches kCartridgeNamePattern
  std::string event_type;   // may be empty
  std::string version;      // non-empty
  std::string author;       // non-empty
  std::string runtime;      // a name in kSupportedRuntimes (ResolveRuntime)
  std::string entry_point;  // "", an identifier or module:function (CheckEntryPoint)
  std::vector<std::string> dependencies;
  std::string description;
  std::string source;           // decoded code: valid UTF-8, non-empty
  std::string sha256;           // Sha256Hex(source)
  std::string source_computer;  // who published it (may be empty)
  // The author's signature (`author_key` / `author_signature`,
  // doc/security.md §4.5), decoded; nullopt = unsigned. Decoded only: whether
  // it is the author's is CartridgeSignatures::Check's question.
  std::optional<CartridgeSignature> signature;
};

// What the author's signature covers, from a parsed candidate
// (code_sha256 = candidate.sha256).
CartridgeStatement StatementOf(const CartridgeCandidate& candidate);

inline constexpr std::string_view kCartridgeNamePattern = "^[a-z0-9][a-z0-9_-]{0,63}$";

// Whether `name` matches kCartridgeNamePattern (so it is safe as a file name:
// no "/", no "..", no leading "-" or ".").
bool IsValidCartridgeName(std::string_view name);

// Validates the payload JSON object text of a cartridge.published event.
// `source_computer` is recorded as given. On failure returns
// INVALID_ARGUMENT whose message is "<field>: <what is wrong>; <fix>", the
// field being the payload key ("name", "code", "version", "author",
// "runtime", "entry_point", "dependencies", "event_type", "description",
// "author_key", "author_signature") or "payload" when the text is not an
// object; PayloadErrorField() extracts it. `author_key` and
// `author_signature` are strings or absent (null = absent), both or neither,
// each at most 256 characters, decoded with DecodeCartridgeSignature.
absl::StatusOr<CartridgeCandidate> ParseCartridgePayload(std::string_view payload_json,
                                                         int64_t max_cartridge_bytes,
                                                         std::string_view source_computer);

// `entry_point` of a cartridge.published payload: "" (the runtime's default,
// `process`), a function name, or the plan's Python form `module:function`
// (module = identifiers joined by '.'). INVALID_ARGUMENT naming the field.
absl::Status CheckEntryPoint(std::string_view entry_point);

// The cartridge's runtime: `runtime` when given (it must be in
// kSupportedRuntimes); absent or null, it is inferred as the plan's payloads
// leave it out: kPythonRuntime for a `module:function` entry point or a
// source with a line starting "def " / "async def "; otherwise
// INVALID_ARGUMENT "runtime: field required: ..." (doc/cartridges.md).
absl::StatusOr<std::string> ResolveRuntime(std::string_view runtime, std::string_view entry_point,
                                           std::string_view source);

// The field named at the start of an error from ParseCartridgePayload
// ("payload" when the message has no field prefix).
std::string PayloadErrorField(const absl::Status& status);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_CARTRIDGE_PAYLOAD_H_
