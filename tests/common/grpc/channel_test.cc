#include "common/grpc/channel.h"

#include <grpcpp/client_context.h>
#include <signal.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/grpc/grpc_server.h"
#include "gtest/gtest.h"
#include "teleclaude/mesh/v1/pipeline.grpc.pb.h"
#include "tests/common/grpc/grpc_probe.h"
#include "tests/common/grpc/shutdown_probe_process.h"
#include "tests/support/child_process.h"

namespace teleclaude::mesh {
namespace {

TEST(ChannelTest, StatusCodesConvertBothWays) {
  for (int code = 1; code <= 16; ++code) {
    absl::Status absl_status(static_cast<absl::StatusCode>(code), "boom");
    grpc::Status grpc_status = ToGrpcStatus(absl_status);
    EXPECT_EQ(static_cast<int>(grpc_status.error_code()), code);
    EXPECT_EQ(grpc_status.error_message(), "boom");
    absl::Status back = FromGrpcStatus(grpc_status, "Pipeline.Submit");
    EXPECT_EQ(back.code(), absl_status.code());
    EXPECT_EQ(back.message(), "Pipeline.Submit: boom");
  }
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK, "x").ok());
}

TEST(ChannelTest, ReachesARealServer) {
  v1::Pipeline::Service pipeline;
  auto server = GrpcServer::Start("127.0.0.1:0", {&pipeline});
  ASSERT_TRUE(server.ok()) << server.status();
  auto health = testing::HealthCheck(MakeChannel((*server)->target()), "");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, testing::HealthStatus::kServing);
}

TEST(ChannelTest, CallToAbsentServerIsUnavailable) {
  // Find a free port, then leave it closed.
  int port;
  {
    v1::Pipeline::Service pipeline;
    auto server = GrpcServer::Start("127.0.0.1:0", {&pipeline});
    ASSERT_TRUE(server.ok());
    port = (*server)->port();
  }
  auto stub = v1::Pipeline::NewStub(MakeChannel(absl::StrCat("127.0.0.1:", port)));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  v1::StatsResponse response;
  absl::Status status =
      FromGrpcStatus(stub->Stats(&context, v1::StatsRequest(), &response), "Pipeline.Stats");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(absl::StartsWith(status.message(), "Pipeline.Stats: "));
}

// A server that is slow to answer the connection (paused for half a second,
// as a starved process on a loaded machine is) is still reached by a call
// that does not wait for readiness: the connection attempt gets the call's
// deadline, not a tenth of a second (CI once saw `telec status` call a
// serving installer unreachable).
TEST(ChannelTest, AServerSlowToAnswerTheConnectionIsStillReached) {
  absl::StatusOr<testing::ProbeProcess> probe = testing::StartShutdownProbe();
  ASSERT_TRUE(probe.ok()) << probe.status();
  std::unique_ptr<testing::ChildProcess>& child = probe->child;
  const std::string target = probe->target;

  ASSERT_EQ(kill(child->pid(), SIGSTOP), 0);
  absl::StatusOr<testing::HealthStatus> health = absl::UnknownError("not called");
  std::thread caller(
      [&] { health = testing::HealthCheck(MakeChannel(target), "", absl::Seconds(10)); });
  absl::SleepFor(absl::Milliseconds(500));  // the pause being simulated
  ASSERT_EQ(kill(child->pid(), SIGCONT), 0);
  caller.join();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, testing::HealthStatus::kServing);
}

}  // namespace
}  // namespace teleclaude::mesh
