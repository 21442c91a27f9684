// DESIGN §1 sovereignty levels: how much of cartridge installation this
// computer decides on its own (--cartridge_install; reported by the
// installer's status). L1: every published cartridge waits for a person;
// L2: a guardian approves it (the person is told) or leaves it pending for
// a person; L3: installed at once.
// Pure functions; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_CARTRIDGE_SOVEREIGNTY_H_
#define TELECLAUDE_MESH_COMMON_CARTRIDGE_SOVEREIGNTY_H_

#include <optional>
#include <string_view>

namespace teleclaude::mesh {

enum class SovereigntyLevel { kL1, kL2, kL3 };

// "L1" / "L2" / "L3".
constexpr std::string_view SovereigntyLevelName(SovereigntyLevel level) {
  switch (level) {
    case SovereigntyLevel::kL1:
      return "L1";
    case SovereigntyLevel::kL2:
      return "L2";
    case SovereigntyLevel::kL3:
      return "L3";
  }
  return "?";
}

// The level named exactly "L1", "L2" or "L3"; nullopt for anything else.
constexpr std::optional<SovereigntyLevel> ParseSovereigntyLevel(std::string_view name) {
  if (name == "L1") return SovereigntyLevel::kL1;
  if (name == "L2") return SovereigntyLevel::kL2;
  if (name == "L3") return SovereigntyLevel::kL3;
  return std::nullopt;
}

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_CARTRIDGE_SOVEREIGNTY_H_
