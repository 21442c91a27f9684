// The wall-time bound of a Lua run (lua_sandbox.h, issue 18 §3): hostile
// cartridges end with a limit error within the budget plus the stated bound
// whatever they call, the pipeline runner counts each such call as a
// failure and suspends the cartridge, and a run that ends late fails even
// when no check saw it.
//
// Times are printed; the assertions use loose bounds so that a loaded
// 2-core machine does not make them flaky: 1 s of CPU time per call, and
// 3 s of wall time (a call may wait for a CPU up to its 1 s cap, and one
// that hit a limit rebuilds its state, which may too). Before issue 18 the
// sort bomb alone held the thread ~15.6 s per call and counted as a
// success.
#include "services/egress/lua/lua_sandbox.h"

#include <time.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "common/base/strings.h"
#include "common/envelope/json_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lauxlib.h"
#include "lua.h"
#include "services/egress/lua/lua_cartridge.h"
#include "services/egress/lua/lua_watchdog.h"
#include "services/egress/pipeline/pipeline_runner.h"
#include "tests/services/egress/lua/lua_hostile_cartridges.h"
#include "tests/support/thread_cpu.h"

namespace teleclaude::mesh {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// Loose: the bound is wall_time + 10 ms on an idle machine.
constexpr double kLooseCpuMilliseconds = 1000;
constexpr auto kLooseBound = std::chrono::seconds(3);

double Milliseconds(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

using ::teleclaude::mesh::testing::ThreadCpuMilliseconds;

EventEnvelope PingEvent(int n) {
  absl::StatusOr<EventEnvelope> event = DecodeEnvelopeJson(
      Cat(R"({"event":"demo.ping","source":"me","level":1,"payload":{"n":)", n, "}}"));
  EXPECT_TRUE(event.ok()) << event.status();
  return *event;
}

std::unique_ptr<Cartridge> Load(const HostileCartridge& hostile, LuaLimits limits = {}) {
  LuaCartridgeSpec spec;
  spec.name = hostile.name;
  spec.source = hostile.source;
  spec.limits = limits;
  absl::StatusOr<std::unique_ptr<Cartridge>> cartridge = LoadLuaCartridge(spec);
  EXPECT_TRUE(cartridge.ok()) << hostile.name << ": " << cartridge.status();
  return cartridge.ok() ? std::move(*cartridge) : nullptr;
}

class HostileCartridgeTest : public ::testing::TestWithParam<HostileCartridge> {};

TEST_P(HostileCartridgeTest, EndsWithALimitErrorWithinTheBound) {
  std::unique_ptr<Cartridge> cartridge = Load(GetParam());
  ASSERT_NE(cartridge, nullptr);
  // Twice: the second call runs in the state rebuilt after the first.
  for (int call = 0; call < 2; ++call) {
    EventEnvelope event = PingEvent(call);
    const EventEnvelope before = event;
    CartridgeContext context;
    const auto start = Clock::now();
    const double cpu_start = ThreadCpuMilliseconds();
    absl::StatusOr<Cartridge::Verdict> verdict = cartridge->Process(event, context);
    const auto elapsed = Clock::now() - start;
    const double cpu = ThreadCpuMilliseconds() - cpu_start;
    std::cout << GetParam().name << " call " << call << ": " << verdict.status() << " after "
              << Milliseconds(elapsed) << " ms (" << cpu << " ms of CPU, with the rebuild)\n";
    EXPECT_LT(cpu, kLooseCpuMilliseconds);
    EXPECT_EQ(verdict.status().code(), absl::StatusCode::kResourceExhausted) << verdict.status();
    EXPECT_THAT(verdict.status().message(), HasSubstr("exceeded"));
    EXPECT_LT(elapsed, kLooseBound);
    EXPECT_EQ(event, before);
    EXPECT_TRUE(context.emitted.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Hostile, HostileCartridgeTest, ::testing::ValuesIn(kHostileCartridges),
                         [](const ::testing::TestParamInfo<HostileCartridge>& info) {
                           std::string name = info.param.name;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

// Through the runner, as egress runs them: every call is a failure, five in
// a row suspend the cartridge, and the events go on through the chain.
TEST(LuaSandboxTest, RunnerCountsEachHostileCallAsAFailureAndSuspends) {
  std::vector<std::string> suspended;
  PipelineRunner::Options options;
  options.computer_name = "alpha";
  PipelineRunner runner(options, {}, [&](const CartridgeSpec& spec, const std::string&) {
    suspended.push_back(spec.name);
  });
  std::vector<ActiveCartridge> active;
  for (const HostileCartridge& hostile : kHostileCartridges) {
    std::unique_ptr<Cartridge> cartridge = Load(hostile);
    ASSERT_NE(cartridge, nullptr);
    CartridgeSpec spec;
    spec.name = hostile.name;
    spec.sha256 = Cat("sha-", hostile.name);
    active.push_back({spec, std::move(cartridge)});
  }
  runner.SetActive(std::move(active));
  const size_t hostile_count = std::size(kHostileCartridges);
  for (int n = 0; n < options.failure_threshold + 2; ++n) {
    std::vector<RunResult> results;
    std::vector<Invocation> invocations;
    const auto start = Clock::now();
    runner.Run(PingEvent(n), EventOrigin::kLocal, "", Cat("test:", n), &results, &invocations);
    const auto elapsed = Clock::now() - start;
    std::cout << "event " << n << " through " << runner.ActiveNames().size()
              << " active hostile cartridges: " << Milliseconds(elapsed) << " ms\n";
    ASSERT_FALSE(results.empty());
    EXPECT_EQ(results[0].status, RunResult::Status::kProcessed);
    EXPECT_EQ(results[0].envelope.event, "demo.ping");
    EXPECT_TRUE(invocations.empty());
    EXPECT_LT(elapsed, kLooseBound * static_cast<int>(hostile_count));
  }
  EXPECT_EQ(suspended.size(), hostile_count);
  EXPECT_TRUE(runner.ActiveNames().empty());
  for (const HostileCartridge& hostile : kHostileCartridges) {
    const CartridgeCounters& counters = runner.counters().at(hostile.name);
    EXPECT_TRUE(counters.suspended) << hostile.name;
    EXPECT_EQ(counters.failures, options.failure_threshold) << hostile.name;
    EXPECT_EQ(counters.invocations, 0) << hostile.name;
  }
}

// The "simple gap": work no check saw (here the host's own body, busy on
// the CPU) still makes a run that ended past its deadline a failure.
TEST(LuaSandboxTest, RunThatEndsPastItsDeadlineFails) {
  auto sandbox = LuaSandbox::Create("late", LuaLimits{});
  ASSERT_TRUE(sandbox.ok()) << sandbox.status();
  absl::Status status = (*sandbox)->Run([](lua_State*) {
    auto cpu_nanos = [] {
      timespec cpu{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
      return int64_t{cpu.tv_sec} * 1'000'000'000 + cpu.tv_nsec;
    };
    const int64_t start = cpu_nanos();
    while (cpu_nanos() - start < 80'000'000) {  // 80 ms of CPU
    }
    return absl::OkStatus();
  });
  EXPECT_EQ(status, absl::ResourceExhaustedError("wall-time budget of 50ms exceeded"));
  EXPECT_TRUE((*sandbox)->needs_rebuild());
  EXPECT_TRUE((*sandbox)->Run([](lua_State*) { return absl::OkStatus(); }).ok());
}

// Time the thread spends waiting (here sleeping; on a busy machine, for a
// CPU) is not the script's: the run is not failed for it.
TEST(LuaSandboxTest, RunThatWaitedRatherThanWorkedIsNotFailed) {
  auto sandbox = LuaSandbox::Create("waited", LuaLimits{});
  ASSERT_TRUE(sandbox.ok()) << sandbox.status();
  EXPECT_TRUE((*sandbox)
                  ->Run([](lua_State*) {
                    absl::SleepFor(absl::Milliseconds(80));
                    return absl::OkStatus();
                  })
                  .ok());
  // And a script that waited past its deadline runs on, with the rest of
  // its budget.
  absl::Status status = (*sandbox)->Run([](lua_State* state) {
    absl::SleepFor(absl::Milliseconds(80));
    luaL_dostring(state, "local n = 0 for i = 1, 10000 do n = n + i end assert(n == 50005000)");
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
}

// A thousand VM instructions run between two count hooks; here each takes
// ~5 ms (comparing two 1 MB strings of NUL bytes: strcoll per piece), so
// the hook alone would see the deadline seconds late (measured: 2.6 s in
// plain Lua with the same hook). The watchdog stops it near the deadline.
TEST(LuaSandboxTest, WatchdogStopsHeavyInstructionsBetweenHooks) {
  ASSERT_NE(LuaWatchdog::Get(), nullptr);
  auto sandbox = LuaSandbox::Create("heavy", LuaLimits{});
  ASSERT_TRUE(sandbox.ok()) << sandbox.status();
  absl::Status setup;
  for (int attempt = 0; attempt < 10; ++attempt) {  // a loaded machine may need a retry
    setup = (*sandbox)->LoadAndRun("A = ('\\0'):rep(1000):rep(1000) B = A:sub(1)");
    if (setup.ok()) break;
  }
  ASSERT_TRUE(setup.ok()) << setup;
  for (int run = 0; run < 3; ++run) {
    const int64_t sent = LuaWatchdog::Get()->interrupts_sent();
    const auto start = Clock::now();
    const double cpu_start = ThreadCpuMilliseconds();
    absl::Status status = (*sandbox)->LoadAndRun("while true do local less = A < B end");
    const auto elapsed = Clock::now() - start;
    const double cpu = ThreadCpuMilliseconds() - cpu_start;
    std::cout << "comparison loop: " << status << " after " << Milliseconds(elapsed) << " ms ("
              << cpu << " ms of CPU)\n";
    EXPECT_LT(cpu, kLooseCpuMilliseconds);
    EXPECT_EQ(status, absl::ResourceExhaustedError("wall-time budget of 50ms exceeded"));
    EXPECT_LT(elapsed, kLooseBound);
    EXPECT_GT(LuaWatchdog::Get()->interrupts_sent(), sent);
  }
}

}  // namespace
}  // namespace teleclaude::mesh
