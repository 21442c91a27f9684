// Building cartridges from their published source (DESIGN §5): a registry of
// factories keyed by runtime (`lua`, ...). Runtimes are registered
// explicitly at start-up (no static self-registration: the linker drops it
// from static libraries).
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_CARTRIDGE_FACTORY_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_CARTRIDGE_FACTORY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/egress/cartridges/cartridge.h"

namespace teleclaude::mesh {

// What egress knows of an active cartridge (from Installer.ListActive).
struct CartridgeSpec {
  std::string name;
  std::string version;
  std::string sha256;
  std::string runtime;      // e.g. "lua"
  std::string entry_point;  // empty = the runtime's default
  std::string event_type;
  std::string source;  // the cartridge's source code (UTF-8 text)
  std::vector<std::string> dependencies;
};

// Builds one cartridge. Errors (e.g. INVALID_ARGUMENT with the compiler's
// message) are reported to the installer as a load failure.
using CartridgeFactory =
    std::function<absl::StatusOr<std::unique_ptr<Cartridge>>(const CartridgeSpec& spec)>;

// Runtime name -> factory. Fill it at start-up (one thread), then use it
// read-only: const methods are then safe from any thread.
class CartridgeFactoryRegistry {
 public:
  // ALREADY_EXISTS when `runtime` is registered; INVALID_ARGUMENT when empty.
  absl::Status Register(std::string runtime, CartridgeFactory factory);

  bool Has(const std::string& runtime) const { return factories_.count(runtime) > 0; }

  // Registered runtime names, sorted.
  std::vector<std::string> Runtimes() const;

  // Builds `spec` with its runtime's factory. UNIMPLEMENTED
  // "runtime \"wasm\" is not supported by this egress (supported: lua)" when
  // no factory is registered for it; otherwise the factory's result.
  absl::StatusOr<std::unique_ptr<Cartridge>> Create(const CartridgeSpec& spec) const;

 private:
  std::map<std::string, CartridgeFactory> factories_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_CARTRIDGE_FACTORY_H_
