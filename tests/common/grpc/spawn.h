// Minimal child-process runner for the platform tests (posix_spawn, pipes
// for stdout/stderr, timeouts). Header-only; used by tests/common/grpc and
// tests/common/config until tests/support offers the same.
#ifndef TELECLAUDE_MESH_TESTS_COMMON_GRPC_SPAWN_H_
#define TELECLAUDE_MESH_TESTS_COMMON_GRPC_SPAWN_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

extern char** environ;

namespace teleclaude::mesh::testing {

// A started child with its stdout and stderr on pipes. Not thread-safe.
class SpawnedChild {
 public:
  // Starts argv[0] (a path) with the current environment plus `env`
  // (name -> value; a value of nullopt removes the variable).
  // pid() is -1 when the spawn failed.
  SpawnedChild(const std::vector<std::string>& argv,
               const std::map<std::string, std::optional<std::string>>& env = {}) {
    std::map<std::string, std::string> vars;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv(*e);
      size_t eq = kv.find('=');
      if (eq != std::string::npos) vars[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& [k, v] : env) {
      if (v)
        vars[k] = *v;
      else
        vars.erase(k);
    }
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : vars) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, args;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    for (std::string& s : argv_copy) args.push_back(s.data());
    args.push_back(nullptr);

    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    // The child starts with no blocked signals, whatever the parent blocks.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    if (posix_spawn(&pid, args[0], &actions, &attr, args.data(), envp.data()) == 0) {
      pid_ = pid;
    }
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(out[1]);
    close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
  }

  ~SpawnedChild() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) close(out_fd_);
    if (err_fd_ >= 0) close(err_fd_);
  }

  pid_t pid() const { return pid_; }

  // Reads stdout until a full line is available (returned without '\n'), or
  // nullopt on EOF / timeout.
  std::optional<std::string> ReadLine(absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    while (true) {
      size_t nl = out_.find('\n', out_pos_);
      if (nl != std::string::npos) {
        std::string line = out_.substr(out_pos_, nl - out_pos_);
        out_pos_ = nl + 1;
        return line;
      }
      if (!Pump(deadline)) return std::nullopt;
    }
  }

  // Waits for the exit (reading all output); false on timeout.
  bool Wait(absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    while (out_fd_ >= 0 || err_fd_ >= 0) {
      if (!Pump(deadline) && absl::Now() >= deadline) return false;
    }
    while (true) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        if (WIFEXITED(status)) exit_code_ = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) term_signal_ = WTERMSIG(status);
        return true;
      }
      if (absl::Now() >= deadline) return false;
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

  int exit_code() const { return exit_code_; }
  int term_signal() const { return term_signal_; }
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  // Reads what is available from both pipes; false on timeout or when both
  // are closed.
  bool Pump(absl::Time deadline) {
    pollfd fds[2];
    int n = 0;
    if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
    if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
    if (n == 0) return false;
    int ms = static_cast<int>(
        absl::ToInt64Milliseconds(std::max(deadline - absl::Now(), absl::ZeroDuration())));
    int r = poll(fds, n, ms);
    if (r <= 0) return false;
    bool progress = false;
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t got = read(fds[i].fd, buf, sizeof(buf));
      bool is_out = fds[i].fd == out_fd_;
      if (got > 0) {
        (is_out ? out_ : err_).append(buf, got);
        progress = true;
      } else if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        close(fds[i].fd);
        (is_out ? out_fd_ : err_fd_) = -1;
        progress = true;
      }
    }
    return progress;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
  int term_signal_ = 0;
  std::string out_, err_;
  size_t out_pos_ = 0;
};

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_COMMON_GRPC_SPAWN_H_
