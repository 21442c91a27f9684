// The `python` cartridge runtime of this egress (issue 15): builds a
// PythonCartridge for each active Python cartridge, all sharing one
// SandboxRunnerClient and one catalog snapshot. doc/cartridges.md "Python
// cartridges" describes the protocol, the states and the timeouts.
//
// Thread-safe once started (Load() may run on the cartridge manager's thread
// while cartridges run on the worker).
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_PYTHON_PYTHON_RUNTIME_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_PYTHON_PYTHON_RUNTIME_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/egress/cartridges/cartridge.h"
#include "services/egress/cartridges/cartridge_factory.h"
#include "services/egress/python/sandbox_runner_client.h"

namespace teleclaude::mesh {

class PythonRuntime {
 public:
  struct Options {
    SandboxRunnerClient::Options runner;  // socket_path "" = no runner
    // Wall time per call (connect, request, answer): --python_cartridge_budget_ms.
    absl::Duration budget = absl::Milliseconds(500);
  };

  explicit PythonRuntime(Options options);

  // Starts the runner client (one ping, then its health thread).
  void Start() { client_.Start(); }
  void Stop() { client_.Stop(); }

  // Builds the cartridge for `spec`. The reference runner
  // (teleclaude/events/sandbox/runner.py) loads {name}.py and calls its
  // `process`, whatever the entry point says, so an entry point other than
  // empty, `process` or `module:process` is refused (InvalidArgument
  // "entry_point pytagger:handle: TeleClaude's sandbox runner calls process
  // only"). Never fails because the runner is down: the cartridge is then
  // loaded and skipped until the runner answers.
  absl::StatusOr<std::unique_ptr<Cartridge>> Load(const CartridgeSpec& spec);

  const SandboxRunnerClient& client() const { return client_; }

 private:
  const Options options_;
  SandboxRunnerClient client_;
  const std::shared_ptr<const std::string> catalog_snapshot_json_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_PYTHON_PYTHON_RUNTIME_H_
