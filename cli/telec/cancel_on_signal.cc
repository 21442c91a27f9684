#include "cli/telec/cancel_on_signal.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "glog/logging.h"

namespace teleclaude::mesh::telec {
namespace {

// Written by the handler; the pipe of the one live instance.
std::atomic<int> g_signal_fd{-1};

void OnSignal(int signo) {
  int saved = errno;
  int fd = g_signal_fd.load();
  if (fd >= 0) {
    char byte = static_cast<char>(signo);
    [[maybe_unused]] ssize_t n = write(fd, &byte, 1);
  }
  errno = saved;
}

}  // namespace

CancelOnSignal::CancelOnSignal(std::function<void()> on_signal) : on_signal_(std::move(on_signal)) {
  PCHECK(pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) == 0) << "pipe2";
  CHECK_EQ(g_signal_fd.exchange(wake_fds_[1]), -1) << "one CancelOnSignal at a time";
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  PCHECK(sigaction(SIGINT, &action, &old_int_) == 0);
  PCHECK(sigaction(SIGTERM, &action, &old_term_) == 0);
  watcher_ = std::thread([this] { Watch(); });
}

CancelOnSignal::~CancelOnSignal() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
  g_signal_fd.store(-1);
  // Byte 0 = stop (signal numbers are never 0).
  char stop = 0;
  [[maybe_unused]] ssize_t n = write(wake_fds_[1], &stop, 1);
  watcher_.join();
  close(wake_fds_[0]);
  close(wake_fds_[1]);
}

void CancelOnSignal::Watch() {
  while (true) {
    pollfd pfd{wake_fds_[0], POLLIN, 0};
    if (poll(&pfd, 1, -1) < 0) {
      if (errno == EINTR) continue;
      PLOG(ERROR) << "poll";
      return;
    }
    char byte = 0;
    while (read(wake_fds_[0], &byte, 1) == 1) {
      if (byte == 0) return;
      if (!fired_.exchange(true) && on_signal_) on_signal_();
    }
  }
}

}  // namespace teleclaude::mesh::telec
