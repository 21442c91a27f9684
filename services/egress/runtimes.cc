#include "services/egress/runtimes.h"

#include "common/base/strings.h"
#include "common/cartridge/runtime.h"
#include "glog/logging.h"
#ifdef TM_EGRESS_HAVE_LUA
#include "services/egress/lua/lua_cartridge.h"
#endif

namespace teleclaude::mesh {

void RegisterCartridgeRuntimes(CartridgeFactoryRegistry& registry, PythonRuntime* python) {
#ifdef TM_EGRESS_HAVE_LUA
  absl::Status s = registry.Register(
      std::string(kLuaRuntime),
      [](const CartridgeSpec& spec) -> absl::StatusOr<std::unique_ptr<Cartridge>> {
        LuaCartridgeSpec lua;
        lua.name = spec.name;
        lua.source = spec.source;
        if (!spec.entry_point.empty()) lua.entry_point = spec.entry_point;
        return LoadLuaCartridge(lua);
      });
  CHECK(s.ok()) << s.message();
#else
  LOG(WARNING) << "this telec-egress was built without the Lua runtime: published cartridges "
                  "cannot run";
#endif
  // Python cartridges run through TeleClaude's sandbox runner
  // (services/egress/python, doc/cartridges.md "Python cartridges").
  absl::Status python_status = registry.Register(
      std::string(kPythonRuntime),
      [python](const CartridgeSpec& spec) -> absl::StatusOr<std::unique_ptr<Cartridge>> {
        return python->Load(spec);
      });
  CHECK(python_status.ok()) << python_status.message();
}

}  // namespace teleclaude::mesh
