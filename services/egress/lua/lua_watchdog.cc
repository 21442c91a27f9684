#include "services/egress/lua/lua_watchdog.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

// After this long without a run the thread sleeps until one starts.
constexpr int64_t kQuietNanos = 1'000'000'000;
// Bounds of one sleep between looks.
constexpr int64_t kMinSleepNanos = 100'000;
constexpr int64_t kMaxSleepNanos = 1'000'000'000;

// The run in progress on this thread, read by the signal handler. Plain
// lock-free atomics: the handler interrupts this same thread.
struct CurrentRun {
  std::atomic<LuaWatchdog::Target*> target{nullptr};
  std::atomic<uint64_t> token{0};
};
thread_local CurrentRun current_run __attribute__((tls_model("initial-exec")));
thread_local bool signal_unblocked = false;

// Run tokens, unique in the process (a sandbox may run on several threads):
// a number per thread in the high bits, the thread's run count below.
std::atomic<uint64_t> last_thread_number{0};
thread_local uint64_t thread_number = 0;
thread_local uint64_t thread_runs = 0;
constexpr int kRunBits = 40;

uint64_t NextToken() {
  if (thread_number == 0) {
    thread_number = last_thread_number.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  thread_runs = (thread_runs + 1) & ((uint64_t{1} << kRunBits) - 1);
  return (thread_number << kRunBits) | thread_runs;
}

int64_t SteadyNanos(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

void HandleSignal(int /*signal*/, siginfo_t* info, void* /*context*/) {
  const int saved_errno = errno;
  const uint64_t token = current_run.token.load(std::memory_order_relaxed);
  LuaWatchdog::Target* target = current_run.target.load(std::memory_order_relaxed);
  if (info != nullptr && info->si_code == SI_QUEUE && token != 0 && target != nullptr &&
      reinterpret_cast<uintptr_t>(info->si_value.sival_ptr) == token) {
    target->InterruptFromSignal();
  }
  errno = saved_errno;
}

}  // namespace

LuaWatchdog::Watch::~Watch() { watchdog_->Unregister(this); }

void LuaWatchdog::Watch::Begin(std::chrono::steady_clock::time_point deadline,
                               std::chrono::nanoseconds budget) {
  if (!signal_unblocked) {
    // A thread created with every signal blocked would never be interrupted.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, watchdog_->signal_);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    signal_unblocked = true;
  }
  const uint64_t token = NextToken();
  current_run.target.store(target_, std::memory_order_relaxed);
  current_run.token.store(token, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  thread_.store(pthread_self(), std::memory_order_relaxed);
  token_.store(token, std::memory_order_relaxed);
  const int64_t budget_ns = std::max<int64_t>(budget.count(), 1);
  budget_ns_.store(budget_ns, std::memory_order_relaxed);
  // Publishes thread_, token_ and budget_ns_ to the watchdog.
  deadline_ns_.store(std::max<int64_t>(SteadyNanos(deadline), 1), std::memory_order_release);
  // Pairs with the fence after the watchdog stores idle_ or its plan: either
  // this run sees them, or the watchdog's look after them sees this run.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // The watchdog may be asleep for longer than this run may take.
  if (watchdog_->idle_.load(std::memory_order_relaxed) ||
      budget_ns < watchdog_->planned_sleep_ns_.load(std::memory_order_relaxed)) {
    watchdog_->Wake();
  }
}

void LuaWatchdog::Watch::End() {
  // A look that still sees the old deadline signals a token no thread runs.
  deadline_ns_.store(0, std::memory_order_relaxed);
  token_.store(0, std::memory_order_relaxed);
  current_run.token.store(0, std::memory_order_relaxed);
  current_run.target.store(nullptr, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
}

LuaWatchdog* LuaWatchdog::Get() {
  static LuaWatchdog* const watchdog = Start();
  return watchdog;
}

LuaWatchdog* LuaWatchdog::Start() {
  // A real-time signal nothing else in our processes uses.
  const int signal = SIGRTMAX - 3;
  struct sigaction old {};
  if (sigaction(signal, nullptr, &old) != 0 ||
      ((old.sa_flags & SA_SIGINFO) == 0 && old.sa_handler != SIG_DFL)) {
    LOG(ERROR) << "Lua watchdog: signal " << signal
               << " already has a handler; Lua runs are bounded by the synchronous checks only";
    return nullptr;
  }
  struct sigaction action {};
  action.sa_sigaction = &HandleSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  if (sigaction(signal, &action, nullptr) != 0) {
    LOG(ERROR) << "Lua watchdog: sigaction: " << std::strerror(errno);
    return nullptr;
  }
  auto* watchdog = new LuaWatchdog(signal);  // lives as long as the process
  pthread_t thread;
  const int error = pthread_create(&thread, nullptr, &LuaWatchdog::ThreadMain, watchdog);
  if (error != 0) {
    LOG(ERROR) << "Lua watchdog: cannot start its thread: " << std::strerror(error)
               << "; Lua runs are bounded by the synchronous checks only";
    delete watchdog;
    return nullptr;
  }
  pthread_detach(thread);
  return watchdog;
}

void* LuaWatchdog::ThreadMain(void* watchdog) {
  static_cast<LuaWatchdog*>(watchdog)->Loop();
  return nullptr;
}

std::unique_ptr<LuaWatchdog::Watch> LuaWatchdog::Register(Target* target) {
  std::unique_ptr<Watch> watch(new Watch(this, target));
  absl::MutexLock lock(&mu_);
  watches_.push_back(watch.get());
  return watch;
}

void LuaWatchdog::Unregister(Watch* watch) {
  absl::MutexLock lock(&mu_);
  watches_.erase(std::remove(watches_.begin(), watches_.end(), watch), watches_.end());
}

void LuaWatchdog::Wake() {
  absl::MutexLock lock(&mu_);
  wake_ = true;
  cv_.Signal();
}

void LuaWatchdog::Loop() {
  absl::MutexLock lock(&mu_);
  int64_t last_active = SteadyNanos(std::chrono::steady_clock::now());
  for (;;) {
    Scan scan = ScanLocked();
    const int64_t now = SteadyNanos(std::chrono::steady_clock::now());
    if (scan.active) last_active = now;
    if (!scan.active && now - last_active >= kQuietNanos) {
      idle_.store(true, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (!ScanLocked().active) {  // a run that started before idle_ was set is seen here
        wake_ = false;
        while (!wake_) cv_.Wait(&mu_);
      }
      idle_.store(false, std::memory_order_relaxed);
      last_active = SteadyNanos(std::chrono::steady_clock::now());
      continue;
    }
    int64_t sleep = std::clamp(scan.wake_ns - now, kMinSleepNanos, kMaxSleepNanos);
    planned_sleep_ns_.store(sleep, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // A run with a shorter budget that started after the scan either sees
    // this plan (and wakes the thread) or is seen here.
    for (Watch* watch : watches_) {
      const int64_t budget = watch->budget_ns_.load(std::memory_order_relaxed);
      if (budget > 0) sleep = std::max(std::min(sleep, budget), kMinSleepNanos);
    }
    wake_ = false;
    cv_.WaitWithTimeout(&mu_, absl::Nanoseconds(sleep));
  }
}

LuaWatchdog::Scan LuaWatchdog::ScanLocked() {
  Scan scan;
  const int64_t now = SteadyNanos(std::chrono::steady_clock::now());
  int64_t shortest_budget = kMaxSleepNanos;
  scan.wake_ns = now + kMaxSleepNanos;
  for (Watch* watch : watches_) {
    const int64_t budget = watch->budget_ns_.load(std::memory_order_relaxed);
    if (budget > 0) shortest_budget = std::min(shortest_budget, budget);
    const uint64_t token = watch->token_.load(std::memory_order_acquire);
    const int64_t deadline = watch->deadline_ns_.load(std::memory_order_acquire);
    if (deadline == 0) continue;
    scan.active = true;
    if (now < deadline) {
      scan.wake_ns = std::min(scan.wake_ns, deadline);
      continue;
    }
    const pthread_t thread = watch->thread_.load(std::memory_order_relaxed);
    // The same run from before reading the deadline to now: its token.
    if (watch->token_.load(std::memory_order_acquire) != token || token == 0 ||
        token == watch->signalled_token_) {
      continue;
    }
    watch->signalled_token_ = token;
    sigval value{};
    value.sival_ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(token));
    if (pthread_sigqueue(thread, signal_, value) == 0) {
      interrupts_sent_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  // A run that starts while the thread sleeps is seen before its deadline.
  scan.wake_ns = std::min(scan.wake_ns, now + shortest_budget);
  return scan;
}

}  // namespace teleclaude::mesh
