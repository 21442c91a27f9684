// A process-wide thread that interrupts Lua runs past their deadline
// (issue 18 §3), for the work no synchronous check sees: a single VM
// instruction can do work proportional to the size of its operands (a
// comparison or concatenation of megabyte strings, passing hundreds of
// thousands of arguments, a long hash chain), and a thousand of them run
// between two count hooks.
//
// How: each run registers its deadline (a few atomic stores, no system
// call). The watchdog sleeps until the earliest deadline of the runs in
// progress, and never longer than the shortest budget a run has had (so it
// sees a run that starts while it sleeps before that run's deadline); when
// a run is past its deadline it sends its signal with the run's token to
// the thread running it (pthread_sigqueue). The handler, on that thread, checks
// that the token is the run in progress there and calls
// Target::InterruptFromSignal, which sets the Lua hook to fire at the next
// instruction: what lua.c does for Ctrl-C, the way Lua's authors intend a
// running state to be stopped asynchronously (lua_sethook "can be called
// during a signal"). After a second with no run it sleeps until the next
// run starts.
//
// A signal can reach its thread just after the run ended (it is then
// ignored); a system call the thread made in that instant may return
// EINTR (the handler is installed with SA_RESTART, so most restart). That
// only happens after a run overran its deadline.
//
// Thread-safe.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_WATCHDOG_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_WATCHDOG_H_

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace teleclaude::mesh {

class LuaWatchdog {
 public:
  // What a run belongs to (a sandbox).
  class Target {
   public:
    // Called from the signal handler on the thread running the target,
    // between Begin() and End() of the run the signal was sent for.
    // Must be async-signal-safe.
    virtual void InterruptFromSignal() = 0;

   protected:
    ~Target() = default;
  };

  // One target's registration. Begin() and End() bracket each run and are
  // called on the thread that runs it; runs of one Watch do not overlap,
  // and a thread runs one at a time. Destroying it unregisters it.
  class Watch {
   public:
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

    // `budget`: how long the run may take from now (deadline - now).
    void Begin(std::chrono::steady_clock::time_point deadline, std::chrono::nanoseconds budget);
    void End();
    // The token of the run in progress (0 between runs); for tests.
    uint64_t token() const { return token_.load(std::memory_order_relaxed); }

   private:
    friend class LuaWatchdog;
    Watch(LuaWatchdog* watchdog, Target* target) : watchdog_(watchdog), target_(target) {}

    LuaWatchdog* const watchdog_;
    Target* const target_;
    std::atomic<pthread_t> thread_{};
    std::atomic<uint64_t> token_{0};
    std::atomic<int64_t> deadline_ns_{0};  // 0: no run in progress
    std::atomic<int64_t> budget_ns_{0};    // of the latest run; 0 before the first
    // The token last signalled; only the watchdog thread, under its mutex.
    uint64_t signalled_token_ = 0;
  };

  // The process's watchdog, started on first use; null when it cannot run
  // (its signal already has a handler, or the thread could not start: runs
  // are then bounded by the synchronous checks only; logged once).
  static LuaWatchdog* Get();

  std::unique_ptr<Watch> Register(Target* target);

  // The signal the watchdog sends.
  int signal_number() const { return signal_; }
  // Signals sent so far.
  int64_t interrupts_sent() const { return interrupts_sent_.load(std::memory_order_relaxed); }

 private:
  explicit LuaWatchdog(int signal) : signal_(signal) {}
  static LuaWatchdog* Start();
  static void* ThreadMain(void* watchdog);

  void Loop();
  struct Scan {
    bool active = false;  // a run is in progress
    int64_t wake_ns = 0;  // when to look again
  };
  // Signals the runs past their deadline; plans the next look.
  Scan ScanLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Unregister(Watch* watch);
  void Wake();

  const int signal_;
  std::atomic<int64_t> interrupts_sent_{0};
  // True while the thread sleeps until a run starts.
  std::atomic<bool> idle_{false};
  // How long the thread may sleep now: a run with a shorter budget wakes it.
  std::atomic<int64_t> planned_sleep_ns_{0};

  absl::Mutex mu_;
  absl::CondVar cv_;
  std::vector<Watch*> watches_ ABSL_GUARDED_BY(mu_);
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_WATCHDOG_H_
