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
// The runtime of the plan's Python cartridges ({name}.py, `process(event,
// context)`), run by TeleClaude's sandbox runner. Installed, but egress has no
// runner client yet: it reports them "runtime python unavailable"
// (services/egress/runtimes.cc).
inline constexpr std::string_view kPythonRuntime = "python";

struct CartridgeRuntime {
  std::string_view name;       // the payload's `runtime`, e.g. "lua"
  std::string_view extension;  // of the source file, with the dot: ".lua"
  // The active file is what a runner outside egress reads (TeleClaude's
  // sandbox runner reads {name}.py): egress failing to load the cartridge
  // leaves the file in place (only a suspension removes it).
  bool file_read_by_runner = false;
};

// Every supported runtime. Adding one here makes the installer accept it, so
// add it only together with its loader in egress.
inline constexpr std::array<CartridgeRuntime, 2> kSupportedRuntimes = {{
    {kLuaRuntime, ".lua", false},
    {kPythonRuntime, ".py", true},
}};

// The runtime named `name` (exact, case-sensitive), or nullptr.
inline const CartridgeRuntime* FindCartridgeRuntime(std::string_view name) {
  for (const CartridgeRuntime& runtime : kSupportedRuntimes) {
    if (runtime.name == name) return &runtime;
  }
  return nullptr;
}

// "lua, python", for error messages.
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
