// What a TeleClaude transport entry on `messages:{me}` asks, and the text of
// the answer a Python TeleClaude computer gives it (doc/transport.md; Python:
// teleclaude/transport/redis_transport/_messaging.py `_handle_incoming_message`,
// _request_response.py `send_response`). Pure functions of the entry's bytes:
// hostile input is handled — any bytes give one of the kinds below, never a
// crash; nothing here talks to Redis.
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_TRANSPORT_REQUEST_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_TRANSPORT_REQUEST_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace teleclaude::mesh {

// The one command this computer answers with data.
inline constexpr std::string_view kGetComputerInfo = "get_computer_info";
// Longest `command` field answered with its parsed name; a longer one gets an
// error envelope naming the field (Python has no bound; ours keeps answers
// small).
inline constexpr size_t kMaxCommandBytes = 4096;
// The longest command name echoed in the unknown-command error.
inline constexpr size_t kMaxEchoedNameBytes = 256;

// The decoded entry.
struct TransportRequest {
  enum class Kind {
    // No answer, as Python gives none: a `type=system` entry (daemon-level,
    // answered by nobody), an entry without a `command` or with an empty one.
    kNoAnswer,
    // Answer with this computer's info (`command` parses to get_computer_info).
    kComputerInfo,
    // Answer with {"status": "error", "error": error}: an unknown command
    // ("Unknown redis command: NAME", Python's text) or a field that does not
    // decode ("title: not valid UTF-8 (byte 0xff at offset 3)").
    kError,
  };
  Kind kind = Kind::kNoAnswer;
  // kError only; valid UTF-8. One line, except that the unknown-command
  // error echoes the name as Python does (a quoted name may hold a line break).
  std::string error;
};

// Decodes an entry whose `type` is not mesh_event. Field rules (Python's
// `_parse_redis_message`): the fields Python decodes (`type`, `session_id`,
// `command`, `origin`, `channel_metadata`, `initiator`, `project_path`,
// `title`, `launch_intent`) must be UTF-8, the first that is not gives kError
// naming it; then `type` = "system" or an empty/absent `command` gives
// kNoAnswer; then the command's name is its first shell word (Python
// `shlex.split`, falling back to a whitespace split when quoting is
// unbalanced) without leading '/'. A repeated field: the last one counts (as
// redis-py's dict).
TransportRequest DecodeTransportRequest(
    const std::vector<std::pair<std::string, std::string>>& fields);

// The name Python's `parse_command_string` takes from `command`: nullopt when
// the command has no words (Python then reports the name as "None").
std::optional<std::string> CommandName(std::string_view command);

// What this computer reports for get_computer_info (Python's ComputerInfo).
struct ComputerInfo {
  std::string name;
  std::string user;
  std::string host;
  std::string role;
  // psutil's figures, Python rounding (one decimal).
  double memory_total_gb = 0;
  double memory_available_gb = 0;
  double memory_percent_used = 0;
  double disk_total_gb = 0;
  double disk_free_gb = 0;
  double disk_percent_used = 0;
  double cpu_percent_used = 0;
};

// The `chunk` Python writes, as `json.dumps` text:
// {"status": "success", "data": {"name": ..., "status": "online", "user": ...,
//  "host": ..., "role": ..., "is_local": true, "system_stats": {"memory":
//  {...}, "disk": {...}, "cpu": {...}}, "tmux_binary": null}}
std::string ComputerInfoResponse(const ComputerInfo& info);
// {"status": "error", "error": <error>} as `json.dumps` text.
std::string ErrorResponse(std::string_view error);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_TRANSPORT_REQUEST_H_
