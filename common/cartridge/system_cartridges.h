// The pipeline's built-in ("system") cartridges (DESIGN §4): egress runs
// them before any published cartridge, the installer lists them with status
// SYSTEM and refuses to register a published cartridge under their names,
// and telec names them in messages. Pure constants; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_CARTRIDGE_SYSTEM_CARTRIDGES_H_
#define TELECLAUDE_MESH_COMMON_CARTRIDGE_SYSTEM_CARTRIDGES_H_

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

namespace teleclaude::mesh {

inline constexpr std::string_view kDedupCartridge = "dedup";
inline constexpr std::string_view kNotificationProjectorCartridge = "notification-projector";
inline constexpr std::string_view kMeshPublisherCartridge = "mesh-publisher";

// In the order the pipeline runs them.
inline constexpr std::array<std::string_view, 3> kSystemCartridges = {
    kDedupCartridge, kNotificationProjectorCartridge, kMeshPublisherCartridge};

inline bool IsSystemCartridge(std::string_view name) {
  return std::find(kSystemCartridges.begin(), kSystemCartridges.end(), name) !=
         kSystemCartridges.end();
}

// Words kept for future system cartridges: no published cartridge may be
// named one of them, or one of them followed by '-' or '_' and anything
// ("system", "system-audit", "mesh_router", "teleclaude-sync", "builtin-x").
inline constexpr std::array<std::string_view, 4> kReservedCartridgeWords = {
    "system", "mesh", "teleclaude", "builtin"};

// Why a published cartridge may not be called `name` ("" when it may): the
// name of a system cartridge, or a name kept for future system use. The
// installer refuses such cartridges and telec refuses to publish them.
inline std::string ReservedCartridgeNameReason(std::string_view name) {
  if (IsSystemCartridge(name)) {
    return std::string("\"") + std::string(name) +
           "\" is the name of a system cartridge; choose another name";
  }
  for (std::string_view word : kReservedCartridgeWords) {
    if (name.starts_with(word) &&
        (name.size() == word.size() || name[word.size()] == '-' || name[word.size()] == '_')) {
      return std::string("\"") + std::string(name) + "\" is reserved for system cartridges (\"" +
             std::string(word) + "\" and names starting with \"" + std::string(word) + "-\" or \"" +
             std::string(word) + "_\"); choose another name";
    }
  }
  return "";
}

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_CARTRIDGE_SYSTEM_CARTRIDGES_H_
