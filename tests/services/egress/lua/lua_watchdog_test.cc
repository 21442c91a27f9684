#include "services/egress/lua/lua_watchdog.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace teleclaude::mesh {
namespace {

using Clock = std::chrono::steady_clock;

class CountingTarget final : public LuaWatchdog::Target {
 public:
  void InterruptFromSignal() override { interrupts_.fetch_add(1, std::memory_order_relaxed); }
  int interrupts() const { return interrupts_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int> interrupts_{0};
};

// Spins (as a Lua run would) until interrupted or `limit` passed; returns
// how long it spun.
Clock::duration SpinUntilInterrupted(const CountingTarget& target, Clock::duration limit) {
  const auto start = Clock::now();
  while (target.interrupts() == 0 && Clock::now() - start < limit) {
  }
  return Clock::now() - start;
}

double Milliseconds(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

TEST(LuaWatchdogTest, InterruptsARunPastItsDeadlineOnItsThread) {
  LuaWatchdog* watchdog = LuaWatchdog::Get();
  ASSERT_NE(watchdog, nullptr);
  CountingTarget target;
  std::unique_ptr<LuaWatchdog::Watch> watch = watchdog->Register(&target);
  const auto deadline = Clock::now() + std::chrono::milliseconds(20);
  watch->Begin(deadline, std::chrono::milliseconds(20));
  SpinUntilInterrupted(target, std::chrono::seconds(5));
  const auto late = Clock::now() - deadline;
  watch->End();
  std::cout << "interrupted " << Milliseconds(late) << " ms after the deadline\n";
  EXPECT_EQ(target.interrupts(), 1);
  EXPECT_LT(late, std::chrono::seconds(1));
}

TEST(LuaWatchdogTest, LeavesARunWithinItsDeadlineAlone) {
  CountingTarget target;
  std::unique_ptr<LuaWatchdog::Watch> watch = LuaWatchdog::Get()->Register(&target);
  watch->Begin(Clock::now() + std::chrono::seconds(30), std::chrono::seconds(30));
  SpinUntilInterrupted(target, std::chrono::milliseconds(50));
  watch->End();
  EXPECT_EQ(target.interrupts(), 0);
}

// A signal meant for another run (one that ended, or that is not running on
// this thread) does nothing.
TEST(LuaWatchdogTest, SignalForAnotherRunIsIgnored) {
  LuaWatchdog* watchdog = LuaWatchdog::Get();
  CountingTarget target;
  std::unique_ptr<LuaWatchdog::Watch> watch = watchdog->Register(&target);
  auto send = [&](uint64_t token) {
    sigval value{};
    value.sival_ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(token));
    // A signal to the calling thread is handled before this returns.
    ASSERT_EQ(pthread_sigqueue(pthread_self(), watchdog->signal_number(), value), 0);
  };
  watch->Begin(Clock::now() + std::chrono::seconds(30), std::chrono::seconds(30));
  const uint64_t first = watch->token();
  watch->End();
  send(first);  // between runs
  watch->Begin(Clock::now() + std::chrono::seconds(30), std::chrono::seconds(30));
  const uint64_t second = watch->token();
  EXPECT_NE(second, first);
  send(first);  // an earlier run
  EXPECT_EQ(target.interrupts(), 0);
  send(second);
  EXPECT_EQ(target.interrupts(), 1);
  watch->End();
}

TEST(LuaWatchdogTest, InterruptsOnlyTheOverdueRunAmongThreads) {
  LuaWatchdog* watchdog = LuaWatchdog::Get();
  CountingTarget overdue, in_time;
  std::unique_ptr<LuaWatchdog::Watch> overdue_watch = watchdog->Register(&overdue);
  std::unique_ptr<LuaWatchdog::Watch> in_time_watch = watchdog->Register(&in_time);
  std::atomic<bool> stop{false};
  std::thread other([&] {
    in_time_watch->Begin(Clock::now() + std::chrono::seconds(30), std::chrono::seconds(30));
    while (!stop.load()) {
    }
    in_time_watch->End();
  });
  overdue_watch->Begin(Clock::now() + std::chrono::milliseconds(10), std::chrono::milliseconds(10));
  SpinUntilInterrupted(overdue, std::chrono::seconds(5));
  overdue_watch->End();
  stop.store(true);
  other.join();
  EXPECT_EQ(overdue.interrupts(), 1);
  EXPECT_EQ(in_time.interrupts(), 0);
}

// After a second without runs the watchdog sleeps; the next run wakes it.
TEST(LuaWatchdogTest, WakesForARunAfterSleeping) {
  CountingTarget target;
  std::unique_ptr<LuaWatchdog::Watch> watch = LuaWatchdog::Get()->Register(&target);
  absl::SleepFor(absl::Milliseconds(1500));
  const auto deadline = Clock::now() + std::chrono::milliseconds(10);
  watch->Begin(deadline, std::chrono::milliseconds(10));
  SpinUntilInterrupted(target, std::chrono::seconds(5));
  const auto late = Clock::now() - deadline;
  watch->End();
  std::cout << "after sleeping: interrupted " << Milliseconds(late) << " ms after the deadline\n";
  EXPECT_EQ(target.interrupts(), 1);
  EXPECT_LT(late, std::chrono::seconds(1));
}

}  // namespace
}  // namespace teleclaude::mesh
