// One thread that runs submitted tasks in order: the installer's single
// writer of installer.db and of the cartridge files. Callers on other threads
// (gRPC handlers, the outbox sender) hand it a function and wait for the
// result; no caller ever holds a lock while the task runs.
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_SERIAL_EXECUTOR_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_SERIAL_EXECUTOR_H_

#include <deque>
#include <functional>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace teleclaude::mesh {

// Thread-safe: Run() and Stop() may be called from any thread (but not from
// inside a task: a task calling Run() would wait for itself).
class SerialExecutor {
 public:
  SerialExecutor() : thread_([this] { Loop(); }) {}
  ~SerialExecutor() { Stop(); }
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  // Runs `task` on the executor thread and returns its result. `task`
  // returns absl::Status or absl::StatusOr<T>. After Stop() it is not run
  // and UNAVAILABLE "the installer is shutting down" is returned.
  template <typename F>
  std::invoke_result_t<F> Run(F task) {
    using R = std::invoke_result_t<F>;
    std::optional<R> result;
    absl::Notification done;
    bool queued = Post([&] {
      result.emplace(task());
      done.Notify();
    });
    if (!queued) return R(absl::UnavailableError("the installer is shutting down"));
    done.WaitForNotification();
    return *std::move(result);
  }

  // Runs the tasks already queued, then ends the thread. Idempotent.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  bool Post(std::function<void()> fn) {
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
    queue_.push_back(std::move(fn));
    return true;
  }

  void Loop() {
    for (;;) {
      std::function<void()> fn;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](SerialExecutor* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
              return self->stopping_ || !self->queue_.empty();
            },
            this));
        if (queue_.empty()) return;  // stopping and drained
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
    }
  }

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts after the fields above exist
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_SERIAL_EXECUTOR_H_
