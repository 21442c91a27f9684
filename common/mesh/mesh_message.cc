#include "common/mesh/mesh_message.h"

#include "common/base/strings.h"

namespace teleclaude::mesh {

std::string MeshStreamKey(std::string_view computer_name) {
  return Cat("messages:", computer_name);
}

std::vector<std::pair<std::string, std::string>> EncodeMeshMessage(std::string_view envelope_json,
                                                                   std::string_view source_computer,
                                                                   std::string_view message_id) {
  std::vector<std::pair<std::string, std::string>> fields;
  fields.reserve(4);
  fields.emplace_back(kFieldType, kMeshEventType);
  fields.emplace_back(kFieldPayload, envelope_json);
  fields.emplace_back(kFieldSourceComputer, source_computer);
  if (!message_id.empty()) fields.emplace_back(kFieldMessageId, message_id);
  return fields;
}

MeshMessage ParseMeshMessage(const std::vector<std::pair<std::string, std::string>>& fields) {
  MeshMessage m;
  for (const auto& [key, value] : fields) {
    if (key == kFieldType) {
      m.type = value;
    } else if (key == kFieldPayload) {
      m.payload = value;
    } else if (key == kFieldSourceComputer) {
      m.source_computer = value;
    } else if (key == kFieldMessageId) {
      m.message_id = value;
    }
  }
  return m;
}

}  // namespace teleclaude::mesh
