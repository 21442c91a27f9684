#include "services/egress/lua/lua_watchdog.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

// After this many looks that found no run, the thread sleeps until one
// starts (about a second).
constexpr int kQuietLooksBeforeSleep = 500;

// The run in progress on this thread, read by the signal handler. Plain
// lock-free atomics: the handler interrupts this same thread.
struct CurrentRun {
  std::atomic<LuaWatchdog::Target*> target{nullptr};
  std::atomic<uint64_t> token{0};
};
thread_local CurrentRun current_run __attribute__((tls_model("initial-exec")));
thread_local bool signal_unblocked = false;

// Run tokens, unique in the process (a sandbox may run on several threads).
std::atomic<uint64_t> last_token{0};

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

void LuaWatchdog::Watch::Begin(std::chrono::steady_clock::time_point deadline) {
  if (!signal_unblocked) {
    // A thread created with every signal blocked would never be interrupted.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, watchdog_->signal_);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    signal_unblocked = true;
  }
  const uint64_t token = last_token.fetch_add(1, std::memory_order_relaxed) + 1;
  current_run.target.store(target_, std::memory_order_relaxed);
  current_run.token.store(token, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  thread_.store(pthread_self(), std::memory_order_relaxed);
  token_.store(token, std::memory_order_relaxed);
  // Publishes thread_ and token_ to the watchdog; the idle_ check after it
  // pairs with the watchdog's store of idle_ before its last look (either
  // this run sees idle_ or that look sees this deadline).
  deadline_ns_.store(std::max<int64_t>(SteadyNanos(deadline), 1), std::memory_order_seq_cst);
  if (watchdog_->idle_.load(std::memory_order_seq_cst)) watchdog_->Wake();
}

void LuaWatchdog::Watch::End() {
  deadline_ns_.store(0, std::memory_order_seq_cst);
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
  int quiet_looks = 0;
  for (;;) {
    quiet_looks = ScanLocked() ? 0 : quiet_looks + 1;
    if (quiet_looks < kQuietLooksBeforeSleep) {
      cv_.WaitWithTimeout(&mu_, kPeriod);
      continue;
    }
    idle_.store(true, std::memory_order_seq_cst);
    if (!ScanLocked()) {  // a run that started before idle_ was set is seen here
      wake_ = false;
      while (!wake_) cv_.Wait(&mu_);
    }
    idle_.store(false, std::memory_order_seq_cst);
    quiet_looks = 0;
  }
}

bool LuaWatchdog::ScanLocked() {
  bool active = false;
  const int64_t now = SteadyNanos(std::chrono::steady_clock::now());
  for (Watch* watch : watches_) {
    const uint64_t token = watch->token_.load(std::memory_order_acquire);
    const int64_t deadline = watch->deadline_ns_.load(std::memory_order_seq_cst);
    if (deadline == 0) continue;
    active = true;
    if (now < deadline) continue;
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
  return active;
}

}  // namespace teleclaude::mesh
