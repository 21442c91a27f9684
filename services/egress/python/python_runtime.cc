#include "services/egress/python/python_runtime.h"

#include <utility>

#include "common/base/strings.h"
#include "common/catalog/event_catalog.h"
#include "services/egress/python/python_cartridge.h"
#include "services/egress/python/runner_protocol.h"

namespace teleclaude::mesh {

PythonRuntime::PythonRuntime(Options options)
    : options_(std::move(options)),
      client_(options_.runner),
      catalog_snapshot_json_(
          std::make_shared<const std::string>(CatalogSnapshotJson(BuildDefaultCatalog()))) {}

absl::StatusOr<std::unique_ptr<Cartridge>> PythonRuntime::Load(const CartridgeSpec& spec) {
  std::string_view function = spec.entry_point;
  if (size_t colon = function.rfind(':'); colon != std::string_view::npos) {
    function.remove_prefix(colon + 1);
  }
  if (!function.empty() && function != "process") {
    return absl::InvalidArgumentError(
        Cat("entry_point ", spec.entry_point,
            ": TeleClaude's sandbox runner calls process only (runner.py loads ", spec.name,
            ".py and calls its process)"));
  }
  return std::make_unique<PythonCartridge>(spec.name, &client_, catalog_snapshot_json_,
                                           options_.budget);
}

}  // namespace teleclaude::mesh
