// Runs a callback (e.g. ClientContext::TryCancel) on SIGINT / SIGTERM, for
// the lifetime of the object — how `telec events tail` stops cleanly on
// Ctrl-C. The signal handler only writes a byte to a pipe
// (async-signal-safe); a watcher thread reads it and runs the callback. The
// previous handlers are restored by the destructor. At most one instance at
// a time. Thread-safe.
#ifndef TELECLAUDE_MESH_CLI_TELEC_CANCEL_ON_SIGNAL_H_
#define TELECLAUDE_MESH_CLI_TELEC_CANCEL_ON_SIGNAL_H_

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace teleclaude::mesh::telec {

class CancelOnSignal {
 public:
  // Installs the handlers and starts the watcher thread. `on_signal` runs at
  // most once, on the watcher thread.
  explicit CancelOnSignal(std::function<void()> on_signal);
  // Stops the watcher and restores the previous handlers.
  ~CancelOnSignal();
  CancelOnSignal(const CancelOnSignal&) = delete;
  CancelOnSignal& operator=(const CancelOnSignal&) = delete;

  // Whether a signal arrived (and on_signal ran or is running).
  bool fired() const { return fired_.load(); }

 private:
  void Watch();

  const std::function<void()> on_signal_;
  std::atomic<bool> fired_{false};
  int wake_fds_[2] = {-1, -1};  // [0] read by the watcher; [1] written to stop it
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  std::thread watcher_;
};

}  // namespace teleclaude::mesh::telec

#endif  // TELECLAUDE_MESH_CLI_TELEC_CANCEL_ON_SIGNAL_H_
