#include "common/grpc/shutdown_signal.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/grpc/channel.h"
#include "gtest/gtest.h"
#include "tests/common/grpc/grpc_probe.h"
#include "tests/common/grpc/shutdown_probe_process.h"
#include "tests/support/child_process.h"

namespace teleclaude::mesh {
namespace {

// A process-directed signal must be blocked in every thread but
// ShutdownSignal's waiter. Block it before main() runs, so every thread (gRPC's
// included, whatever the test order) inherits the mask.
const bool kSignalsBlocked = [] {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return pthread_sigmask(SIG_BLOCK, &set, nullptr) == 0;
}();

TEST(ShutdownSignalTest, SignalsBlockedBeforeTests) { EXPECT_TRUE(kSignalsBlocked); }

TEST(ShutdownSignalTest, SigtermRunsCallbackAndNotifies) {
  std::atomic<int> seen{0};
  ShutdownSignal signal([&](int signo) { seen = signo; });
  EXPECT_FALSE(signal.Requested());
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);
  ASSERT_TRUE(signal.WaitFor(absl::Seconds(5)));
  EXPECT_TRUE(signal.Requested());
  EXPECT_EQ(signal.signal_number(), SIGTERM);
  EXPECT_EQ(seen.load(), SIGTERM);
}

TEST(ShutdownSignalTest, SigintAlsoRequestsShutdown) {
  ShutdownSignal signal;
  ASSERT_EQ(kill(getpid(), SIGINT), 0);
  signal.Wait();
  EXPECT_EQ(signal.signal_number(), SIGINT);
}

TEST(ShutdownSignalTest, RequestWithoutSignal) {
  bool called = false;
  ShutdownSignal signal([&](int) { called = true; });
  EXPECT_FALSE(signal.WaitFor(absl::Milliseconds(10)));
  signal.Request();
  signal.Request();  // idempotent
  EXPECT_TRUE(signal.WaitFor(absl::Milliseconds(10)));
  EXPECT_EQ(signal.signal_number(), 0);
  EXPECT_FALSE(called);
}

TEST(ShutdownSignalTest, SecondSignalIsAbsorbed) {
  ShutdownSignal signal;
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);
  signal.Wait();
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);  // process survives
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(signal.signal_number(), SIGTERM);
}

TEST(ShutdownSignalTest, DestroyWithoutSignal) {
  { ShutdownSignal signal; }
  { ShutdownSignal again; }
  SUCCEED();
}

// A real service process: serves, gets SIGTERM, drains, exits 0.
void RunProbe(int signo) {
  absl::StatusOr<testing::ProbeProcess> probe = testing::StartShutdownProbe();
  ASSERT_TRUE(probe.ok()) << probe.status();
  std::unique_ptr<testing::ChildProcess>& child = probe->child;
  auto health = testing::HealthCheck(MakeChannel(probe->target), "");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, testing::HealthStatus::kServing);
  ASSERT_EQ(kill(child->pid(), signo), 0);
  absl::StatusOr<testing::ExitInfo> exit = child->Wait(absl::Seconds(10));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->signal, 0);
  EXPECT_EQ(exit->exit_code, 0) << child->ReadLog();
  EXPECT_EQ(child->ReadStdout(), absl::StrCat(probe->ready_line, "\ndrained ", signo, "\n"));
}

TEST(ShutdownSignalTest, ServiceProcessDrainsAndExitsZeroOnSigterm) { RunProbe(SIGTERM); }

TEST(ShutdownSignalTest, ServiceProcessDrainsAndExitsZeroOnSigint) { RunProbe(SIGINT); }

}  // namespace
}  // namespace teleclaude::mesh
