// The heartbeat a computer keeps alive in Redis (DESIGN §3.4, doc/wire.md):
// key `computer:{name}:heartbeat`, SETEX with a TTL, value JSON in Python's
// default json.dumps style, e.g.
//   {"computer_name": "alpha", "last_seen": "2025-03-01T12:34:56.789012+00:00", "cluster": "x"}
// `cluster` is omitted when the computer has none (Python peers never send it).
#ifndef TELECLAUDE_MESH_COMMON_MESH_HEARTBEAT_H_
#define TELECLAUDE_MESH_COMMON_MESH_HEARTBEAT_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace teleclaude::mesh {

// One heartbeat value. Value type.
struct Heartbeat {
  std::string computer_name;
  std::string last_seen;               // ISO 8601 as sent
  std::optional<std::string> cluster;  // nullopt = none (or null / "" on the wire)

  friend bool operator==(const Heartbeat&, const Heartbeat&) = default;
};

// The JSON value TeleClaude writes (keys in the order above, ", " / ": "
// separators, non-ASCII escaped as Python does).
std::string EncodeHeartbeat(const Heartbeat& heartbeat);

// Parses a heartbeat value. Unknown keys are ignored; `cluster` null or "" is
// no cluster. Errors (INVALID_ARGUMENT) name the problem: not JSON (invalid
// UTF-8 included), not an object, `computer_name` missing / not a non-empty
// string, `last_seen` missing / not a string, `cluster` not a string.
absl::StatusOr<Heartbeat> DecodeHeartbeat(std::string_view json);

// "computer:{name}:heartbeat".
std::string HeartbeatKey(std::string_view computer_name);

// The computer name inside a heartbeat key, or nullopt when `key` is not of
// the form "computer:{name}:heartbeat".
std::optional<std::string> ComputerNameFromHeartbeatKey(std::string_view key);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_MESH_HEARTBEAT_H_
