// telec-egress: the pipeline service of one computer (DESIGN §2).
#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "common/config/config.h"
#include "common/grpc/shutdown_signal.h"
#include "glog/logging.h"
#include "services/egress/egress.h"
#include "services/egress/runtimes.h"

ABSL_FLAG(int64_t, outbox_max, 100000,
          "Undelivered mesh messages kept in events.db at most per peer; beyond, that peer's "
          "oldest are dropped and counted for it (Stats outbox_per_peer, outbox_dropped)");
ABSL_FLAG(int64_t, cartridge_failure_threshold, 5,
          "Consecutive failures after which an active cartridge is suspended");
ABSL_FLAG(int64_t, watch_history, 1000,
          "Processed events kept in memory for `telec events tail --last N` (0 = none)");

ABSL_FLAG(std::string, python_runner_socket, "",
          "Unix socket of TeleClaude's sandbox runner that runs Python cartridges "
          "(doc/cartridges.md); empty: none, Python cartridges are shown as 'runner "
          "unavailable' and skipped");
ABSL_FLAG(int64_t, python_cartridge_budget_ms, 500,
          "Wall time per Python cartridge call through the runner (connect, request, answer); "
          "a call past it is a failure");
ABSL_FLAG(std::string, wal_checkpoints, "thread",
          "Where events.db's WAL checkpoints run: `thread` (a connection and thread of their "
          "own: they never stall the pipeline) or `writer` (the pipeline worker between its "
          "batches, as before; kept to measure the difference with tests/bench)");

int main(int argc, char** argv) {
  teleclaude::mesh::ShutdownSignal signal;
  teleclaude::mesh::Config config = teleclaude::mesh::InitProcess(
      argc, argv, "telec-egress",
      "telec-egress: runs this computer's event pipeline and forwards events to peers");
  teleclaude::mesh::EgressOptions options;
  options.config = std::move(config);
  options.outbox_max = absl::GetFlag(FLAGS_outbox_max);
  options.failure_threshold = static_cast<int>(absl::GetFlag(FLAGS_cartridge_failure_threshold));
  options.watch_history = absl::GetFlag(FLAGS_watch_history);
  const std::string checkpoints = absl::GetFlag(FLAGS_wal_checkpoints);
  if (checkpoints != "thread" && checkpoints != "writer") {
    std::cerr << "telec-egress: wal_checkpoints: use thread or writer, not \"" << checkpoints
              << "\"\n";
    return 2;
  }
  options.checkpoint_thread = checkpoints == "thread";
  if (options.outbox_max <= 0 || options.failure_threshold <= 0) {
    std::cerr << "telec-egress: outbox_max and cartridge_failure_threshold must be positive\n";
    return 2;
  }
  if (options.watch_history < 0 || options.watch_history > 1000000) {
    std::cerr << "telec-egress: watch_history: use 0 to 1000000 events\n";
    return 2;
  }
  teleclaude::mesh::PythonRuntime::Options python_options;
  python_options.runner.socket_path = absl::GetFlag(FLAGS_python_runner_socket);
  const int64_t budget_ms = absl::GetFlag(FLAGS_python_cartridge_budget_ms);
  if (budget_ms <= 0 || budget_ms > 60000) {
    std::cerr << "telec-egress: python_cartridge_budget_ms: use 1 to 60000\n";
    return 2;
  }
  python_options.budget = absl::Milliseconds(budget_ms);
  // Outlives the registry and egress (declared first, destroyed last).
  teleclaude::mesh::PythonRuntime python(std::move(python_options));
  python.Start();
  teleclaude::mesh::CartridgeFactoryRegistry registry;
  teleclaude::mesh::RegisterCartridgeRuntimes(registry, &python);
  auto egress = teleclaude::mesh::Egress::Start(std::move(options), std::move(registry));
  if (!egress.ok()) {
    std::cerr << "telec-egress: " << egress.status().message() << "\n";
    return 1;
  }
  signal.Wait();
  LOG(INFO) << "shutdown requested";
  (*egress)->Shutdown();
  return 0;
}
