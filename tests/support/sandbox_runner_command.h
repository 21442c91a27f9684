// The sandbox runner process the Python-cartridge tests start
// (doc/cartridges.md "Python cartridges").
#ifndef TELECLAUDE_MESH_TESTS_SUPPORT_SANDBOX_RUNNER_COMMAND_H_
#define TELECLAUDE_MESH_TESTS_SUPPORT_SANDBOX_RUNNER_COMMAND_H_

#include <cstdlib>
#include <string>
#include <vector>

namespace teleclaude::mesh::testing {

// `python3 <default_script>` (our runner, tests/python/sandbox_runner.py),
// or, when the environment sets TM_SANDBOX_RUNNER, that program alone: any
// runner that reads SANDBOX_SOCKET_PATH and SANDBOX_CARTRIDGES_DIR, e.g. a
// script that starts TeleClaude's own `python -m teleclaude.events.sandbox`
// (doc/cartridges.md "TeleClaude's own runner against this egress").
inline std::vector<std::string> SandboxRunnerCommand(const std::string& default_script) {
  if (const char* program = std::getenv("TM_SANDBOX_RUNNER"); program != nullptr && *program) {
    return {program};
  }
  return {"python3", default_script};
}

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SUPPORT_SANDBOX_RUNNER_COMMAND_H_
