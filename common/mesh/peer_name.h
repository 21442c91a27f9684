// The names other computers go by (issue 15 "Names", doc/membership.md
// "Names"). TeleClaude's Python computers accept almost any computer name
// (spaces, colons, more than 64 characters); this computer's own name keeps
// the stricter rules of ValidateName (common/config/config.h), but a peer is
// never dropped from discovery for a name Python accepts. A name is escaped
// where it would be unsafe (log lines, telec), not refused there. Pure
// functions; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_MESH_PEER_NAME_H_
#define TELECLAUDE_MESH_COMMON_MESH_PEER_NAME_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace teleclaude::mesh {

// The longest peer name accepted, in bytes.
inline constexpr size_t kMaxPeerNameBytes = 255;

// OK when `name` can be a peer's computer name (or cluster): non-empty, at
// most kMaxPeerNameBytes, well-formed UTF-8 with no control character (C0,
// DEL, C1) and no line or paragraph separator (U+2028, U+2029): one line
// of printable text. Spaces, ':', '*', '{', '}' and any letter are
// accepted. INVALID_ARGUMENT "<field>: ..." otherwise; the message quotes
// the name escaped (one line of valid UTF-8).
absl::Status ValidatePeerName(std::string_view field, std::string_view name);

// Whether `name` is shown as it is: only ASCII letters, digits, '.', '_' and
// '-' (every name ValidateName accepts without quoting trouble).
bool IsPlainPeerName(std::string_view name);

// `name` for a human: as it is when IsPlainPeerName, otherwise as a JSON
// string literal ("py C", "a\"b", "\u0007"): one line, unambiguous in a
// table or a log line, whatever the bytes.
std::string DisplayPeerName(std::string_view name);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_MESH_PEER_NAME_H_
