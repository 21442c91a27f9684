// The cartridge runtimes this computer can run (DESIGN §5, `runtime` of a
// cartridge.published payload). The installer refuses a cartridge whose
// runtime is not listed here; egress registers a loader under each name
// (services/egress/runtimes.cc); telec publishes kLuaRuntime by default.
// Pure constants; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_CARTRIDGE_RUNTIME_H_
#define TELECLAUDE_MESH_COMMON_CARTRIDGE_RUNTIME_H_

#include <array>
#include <string>
#include <string_view>

namespace teleclaude::mesh {

// The runtime of Lua cartridges (services/egress/lua).
inline constexpr std::string_view kLuaRuntime = "lua";

struct CartridgeRuntime {
  std::string_view name;       // the payload's `runtime`, e.g. "lua"
  std::string_view extension;  // of the source file, with the dot: ".lua"
};

// Every supported runtime. Adding one here makes the installer accept it, so
// add it only together with its loader in egress.
inline constexpr std::array<CartridgeRuntime, 1> kSupportedRuntimes = {{
    {kLuaRuntime, ".lua"},
}};

// The runtime named `name` (exact, case-sensitive), or nullptr.
inline const CartridgeRuntime* FindCartridgeRuntime(std::string_view name) {
  for (const CartridgeRuntime& runtime : kSupportedRuntimes) {
    if (runtime.name == name) return &runtime;
  }
  return nullptr;
}

// "lua" (or "lua, wasm" once there are more), for error messages.
inline std::string SupportedRuntimeNames() {
  std::string out;
  for (const CartridgeRuntime& runtime : kSupportedRuntimes) {
    if (!out.empty()) out += ", ";
    out += runtime.name;
  }
  return out;
}

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_CARTRIDGE_RUNTIME_H_
