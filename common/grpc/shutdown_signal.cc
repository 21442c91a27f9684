#include "common/grpc/shutdown_signal.h"

#include <pthread.h>
#include <signal.h>

#include <cstring>
#include <utility>

#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

ShutdownSignal::ShutdownSignal(std::function<void(int)> on_signal)
    : on_signal_(std::move(on_signal)) {
  sigset_t set = ShutdownSignals();
  int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr);
  CHECK_EQ(rc, 0) << "pthread_sigmask: " << std::strerror(rc);
  // Started after the mask is set, so the waiter inherits it too.
  waiter_ = std::thread([this] { Run(); });
}

ShutdownSignal::~ShutdownSignal() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  // A thread-directed signal that is blocked stays pending for the waiter,
  // whose sigwait() then returns and sees stopping_.
  pthread_kill(waiter_.native_handle(), SIGTERM);
  waiter_.join();
}

void ShutdownSignal::Run() {
  sigset_t set = ShutdownSignals();
  while (true) {
    int signo = 0;
    if (sigwait(&set, &signo) != 0) continue;
    bool first = false;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      if (!notified_) {
        notified_ = true;
        signo_ = signo;
        first = true;
      }
    }
    if (!first) {
      LOG(WARNING) << "got " << strsignal(signo) << " while already shutting down; still draining";
      continue;
    }
    LOG(INFO) << "got " << strsignal(signo) << "; shutting down";
    if (on_signal_) on_signal_(signo);
    requested_.Notify();
  }
}

void ShutdownSignal::Wait() { requested_.WaitForNotification(); }

bool ShutdownSignal::WaitFor(absl::Duration timeout) {
  return requested_.WaitForNotificationWithTimeout(timeout);
}

bool ShutdownSignal::Requested() const { return requested_.HasBeenNotified(); }

int ShutdownSignal::signal_number() const {
  absl::MutexLock lock(&mu_);
  return signo_;
}

void ShutdownSignal::Request() {
  {
    absl::MutexLock lock(&mu_);
    if (notified_) return;
    notified_ = true;
  }
  requested_.Notify();
}

}  // namespace teleclaude::mesh
