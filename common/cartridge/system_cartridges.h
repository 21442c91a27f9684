// The pipeline's built-in ("system") cartridges (DESIGN §4): egress runs
// them before any published cartridge, the installer lists them with status
// SYSTEM and refuses to register a published cartridge under their names,
// and telec names them in messages. Pure constants; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_CARTRIDGE_SYSTEM_CARTRIDGES_H_
#define TELECLAUDE_MESH_COMMON_CARTRIDGE_SYSTEM_CARTRIDGES_H_

#include <algorithm>
#include <array>
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

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_CARTRIDGE_SYSTEM_CARTRIDGES_H_
