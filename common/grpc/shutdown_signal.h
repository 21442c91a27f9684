// Clean shutdown on SIGTERM / SIGINT (DESIGN §2). A service main():
//   ShutdownSignal signal;          // before any thread is created
//   ... start servers, workers ...
//   signal.Wait();                  // until SIGTERM / SIGINT
//   ... drain: stop inputs, finish the in-flight batch, flush ...
//   return 0;
#ifndef TELECLAUDE_MESH_COMMON_GRPC_SHUTDOWN_SIGNAL_H_
#define TELECLAUDE_MESH_COMMON_GRPC_SHUTDOWN_SIGNAL_H_

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace teleclaude::mesh {

// Turns SIGTERM / SIGINT into a notification. The constructor blocks both
// signals in the calling thread — so construct it in main() before any other
// thread exists, and every later thread inherits the mask — and starts one
// thread that waits for them with sigwait(). On the first signal it runs
// `on_signal(signo)` (on that thread; keep it short and non-blocking) and
// then notifies Wait(). Later signals are logged and otherwise ignored (the
// drain in progress finishes). At most one instance per process.
// Thread-safe: every method may be called from any thread.
class ShutdownSignal {
 public:
  explicit ShutdownSignal(std::function<void(int signo)> on_signal = nullptr);
  // Stops the waiter thread. The signals stay blocked.
  ~ShutdownSignal();
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  // Blocks until shutdown was requested (signal or Request()).
  void Wait();
  // As Wait(), at most `timeout`; true when shutdown was requested.
  bool WaitFor(absl::Duration timeout);
  // Whether shutdown was requested.
  bool Requested() const;
  // The signal that requested shutdown; 0 when none (yet) or by Request().
  int signal_number() const;
  // Requests shutdown without a signal (e.g. a fatal error in a worker). Runs
  // no callback. Idempotent.
  void Request();

 private:
  void Run();

  const std::function<void(int)> on_signal_;
  absl::Notification requested_;
  mutable absl::Mutex mu_;
  int signo_ ABSL_GUARDED_BY(mu_) = 0;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;  // requested_ notified/ing
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread waiter_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_SHUTDOWN_SIGNAL_H_
