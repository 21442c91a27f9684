// The mesh message: a stream entry on `messages:{peer}` (DESIGN §3.3,
// doc/wire.md). Fields, in this order: `type` = "mesh_event", `payload` = the
// envelope's model_dump_json text, `source_computer` = the sender, then our
// own `message_id` (a stable id for de-duplication at the receiver; Python
// readers ignore it, and ingress accepts messages without it).
#ifndef TELECLAUDE_MESH_COMMON_MESH_MESH_MESSAGE_H_
#define TELECLAUDE_MESH_COMMON_MESH_MESH_MESSAGE_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace teleclaude::mesh {

inline constexpr std::string_view kMeshEventType = "mesh_event";
inline constexpr std::string_view kFieldType = "type";
inline constexpr std::string_view kFieldPayload = "payload";
inline constexpr std::string_view kFieldSourceComputer = "source_computer";
inline constexpr std::string_view kFieldMessageId = "message_id";
// The consumer group ingress reads `messages:{me}` with. Senders read its lag
// to avoid trimming entries the receiver has not read yet (doc/wire.md).
inline constexpr std::string_view kMeshIngressGroup = "mesh-ingress";

// "messages:{computer_name}".
std::string MeshStreamKey(std::string_view computer_name);

// The fields of one mesh message, in wire order.
std::vector<std::pair<std::string, std::string>> EncodeMeshMessage(std::string_view envelope_json,
                                                                   std::string_view source_computer,
                                                                   std::string_view message_id);

// What a received entry holds; absent fields are nullopt. When a field occurs
// more than once the last one counts (as a Python dict built from the reply).
struct MeshMessage {
  std::optional<std::string> type;
  std::optional<std::string> payload;
  std::optional<std::string> source_computer;
  std::optional<std::string> message_id;
};

MeshMessage ParseMeshMessage(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_MESH_MESH_MESSAGE_H_
