// A minimal service main for grpc_server_test / shutdown_signal_test: blocks
// SIGTERM/SIGINT, serves Pipeline (unimplemented) + health + reflection on a
// free loopback port, prints "ready <port>", waits for a signal, drains and
// exits 0 after printing "drained <signal>".
#include <cstdio>

#include "common/grpc/grpc_server.h"
#include "common/grpc/shutdown_signal.h"
#include "teleclaude/mesh/v1/pipeline.grpc.pb.h"

int main() {
  teleclaude::mesh::ShutdownSignal signal;  // before any thread exists
  teleclaude::mesh::v1::Pipeline::Service pipeline;
  auto server = teleclaude::mesh::GrpcServer::Start("127.0.0.1:0", {&pipeline});
  if (!server.ok()) {
    std::fprintf(stderr, "shutdown_probe: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  std::printf("ready %d\n", (*server)->port());
  std::fflush(stdout);
  signal.Wait();
  (*server)->Shutdown(absl::Seconds(2));
  (*server)->Wait();
  std::printf("drained %d\n", signal.signal_number());
  std::fflush(stdout);
  return 0;
}
