// Loads the active published cartridges (Installer.ListActive), builds them
// through the CartridgeFactoryRegistry and swaps them into the runner between
// batches (on the pipeline worker). A cartridge that cannot be built (unknown
// runtime, compile error) is reported to the installer
// (ReportCartridgeFailure, suspended = false) and not loaded. Suspensions
// decided by the runner are reported the same way (suspended = true),
// retried until the installer answers. At start the set is loaded in the
// background; an unreachable installer means no active cartridges until a
// retry succeeds; an installer still unreachable after `warn_after` (start
// order: egress may start first) is logged once as a warning.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_CONTROL_CARTRIDGE_MANAGER_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_CONTROL_CARTRIDGE_MANAGER_H_

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/egress/cartridges/cartridge_factory.h"
#include "services/egress/delivery/installer_client.h"
#include "services/egress/pipeline/pipeline_runner.h"
#include "services/egress/pipeline/pipeline_worker.h"
#include "teleclaude/mesh/v1/pipeline.pb.h"

namespace teleclaude::mesh {

// Thread-safe. Owns one thread that talks to the installer.
class CartridgeManager {
 public:
  struct Options {
    absl::Duration retry_min = absl::Milliseconds(500);
    absl::Duration retry_max = absl::Seconds(30);
    absl::Duration warn_after = absl::Seconds(30);  // --dependency_grace_s
  };
  using ReloadDoneFn = std::function<void(absl::StatusOr<v1::ReloadCartridgesResponse>)>;

  // None owned; all outlive the manager.
  CartridgeManager(Options options, InstallerClient* installer,
                   const CartridgeFactoryRegistry* registry, PipelineWorker* worker,
                   PipelineRunner* runner);
  ~CartridgeManager();  // Stop()

  // Starts the thread and the first load.
  void Start();
  void Stop();

  // Re-reads the set; `done` runs after the swap (or with the error when the
  // installer cannot be asked). Runs on the manager's or the worker's thread.
  void Reload(ReloadDoneFn done);
  // Reports a suspension (from the runner, on the worker thread).
  void ReportSuspended(const CartridgeSpec& spec, const std::string& reason);

 private:
  void Run();
  absl::StatusOr<v1::ReloadCartridgesResponse> LoadAndSwap(
      const std::function<void(absl::StatusOr<v1::ReloadCartridgesResponse>)>& done);

  const Options options_;
  InstallerClient* const installer_;
  const CartridgeFactoryRegistry* const registry_;
  PipelineWorker* const worker_;
  PipelineRunner* const runner_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool initial_loaded_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<ReloadDoneFn> reloads_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::ReportCartridgeFailureRequest> reports_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_CONTROL_CARTRIDGE_MANAGER_H_
