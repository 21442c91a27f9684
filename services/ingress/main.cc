// telec-ingress: this computer's mesh inbox, trust gate and heartbeat
// (DESIGN §2; doc/ingress.md).
#include <cstdio>

#include "common/config/config.h"
#include "common/grpc/shutdown_signal.h"
#include "glog/logging.h"
#include "services/ingress/ingress_process.h"

int main(int argc, char** argv) {
  using teleclaude::mesh::Config;
  teleclaude::mesh::ShutdownSignal signal;  // before any thread
  const Config config = teleclaude::mesh::InitProcess(
      argc, argv, "telec-ingress",
      "telec-ingress: consumes messages:{computer_name}, trust-gates every mesh event, hands "
      "trusted ones to egress (Pipeline.Submit) and keeps this computer's heartbeat alive.");
  auto process = teleclaude::mesh::IngressProcess::Start(config);
  if (!process.ok()) {
    std::fprintf(stderr, "telec-ingress: %s\n", std::string(process.status().message()).c_str());
    return 1;
  }
  signal.Wait();
  LOG(INFO) << "telec-ingress: shutting down (signal " << signal.signal_number() << ")";
  (*process)->Shutdown();
  return 0;
}
