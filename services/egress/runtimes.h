// The cartridge runtimes this egress binary can run, registered explicitly
// (STYLE: no static self-registration).
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_RUNTIMES_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_RUNTIMES_H_

#include "services/egress/cartridges/cartridge_factory.h"
#include "services/egress/python/python_runtime.h"

namespace teleclaude::mesh {

// Registers `lua` (services/egress/lua) when the binary was built with it;
// without it nothing is registered, and an active cartridge of that runtime is
// reported to the installer as not loadable ("runtime \"lua\" is not
// supported by this egress"). Registers `python` with `python` (which
// outlives the registry): cartridges run through TeleClaude's sandbox runner,
// and are skipped, visibly, while no runner answers (doc/cartridges.md).
void RegisterCartridgeRuntimes(CartridgeFactoryRegistry& registry, PythonRuntime* python);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_RUNTIMES_H_
