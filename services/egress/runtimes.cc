#include "services/egress/runtimes.h"

#include "common/base/strings.h"
#include "common/cartridge/runtime.h"
#include "glog/logging.h"
#ifdef TM_EGRESS_HAVE_LUA
#include "services/egress/lua/lua_cartridge.h"
#endif

namespace teleclaude::mesh {

void RegisterCartridgeRuntimes(CartridgeFactoryRegistry& registry) {
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
  // Python cartridges are installed ({data_dir}/cartridges/{name}.py, where
  // TeleClaude's sandbox runner reads them) but this egress has no runner
  // client yet: loading one fails with a reason the installer records
  // (status failed, `telec cartridges show NAME`), never a silent drop.
  absl::Status python = registry.Register(
      std::string(kPythonRuntime),
      [](const CartridgeSpec& spec) -> absl::StatusOr<std::unique_ptr<Cartridge>> {
        return absl::UnavailableError(Cat(
            "runtime python unavailable: this egress has no sandbox runner client yet; "
            "cartridge ",
            spec.name, " stays installed as ", spec.name, ".py but cannot run on this computer"));
      });
  CHECK(python.ok()) << python.message();
}

}  // namespace teleclaude::mesh
