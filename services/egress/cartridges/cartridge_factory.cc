#include "services/egress/cartridges/cartridge_factory.h"

#include <utility>

#include "common/base/strings.h"

namespace teleclaude::mesh {

absl::Status CartridgeFactoryRegistry::Register(std::string runtime, CartridgeFactory factory) {
  if (runtime.empty()) return absl::InvalidArgumentError("cartridge runtime name is empty");
  if (factories_.count(runtime) > 0) {
    return absl::AlreadyExistsError(Cat("cartridge runtime already registered: ", runtime));
  }
  factories_.emplace(std::move(runtime), std::move(factory));
  return absl::OkStatus();
}

std::vector<std::string> CartridgeFactoryRegistry::Runtimes() const {
  std::vector<std::string> out;
  for (const auto& [name, factory] : factories_) out.push_back(name);
  return out;
}

absl::StatusOr<std::unique_ptr<Cartridge>> CartridgeFactoryRegistry::Create(
    const CartridgeSpec& spec) const {
  auto it = factories_.find(spec.runtime);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& [name, factory] : factories_) {
      if (!known.empty()) known += ", ";
      known += name;
    }
    if (known.empty()) known = "none";
    return absl::UnimplementedError(Cat(
        "runtime \"", spec.runtime, "\" is not supported by this egress (supported: ", known, ")"));
  }
  return it->second(spec);
}

}  // namespace teleclaude::mesh
