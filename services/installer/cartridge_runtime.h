// The cartridge runtimes this computer can run (DESIGN §5, `runtime` of a
// cartridge.published payload). The installer refuses a cartridge whose
// runtime is not listed here; egress's loader relies on the same list (the
// file extension picks the loader). Pure constants; thread-safe.
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_CARTRIDGE_RUNTIME_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_CARTRIDGE_RUNTIME_H_

#include <array>
#include <string>
#include <string_view>

namespace teleclaude::mesh {

struct CartridgeRuntime {
  std::string_view name;       // the payload's `runtime`, e.g. "lua"
  std::string_view extension;  // of the source file, with the dot: ".lua"
};

// Every supported runtime. Adding one here makes the installer accept it, so
// add it only together with its loader in egress.
inline constexpr std::array<CartridgeRuntime, 1> kSupportedRuntimes = {{
    {"lua", ".lua"},
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

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_CARTRIDGE_RUNTIME_H_
