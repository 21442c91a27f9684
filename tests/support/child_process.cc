#include "tests/support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/time/clock.h"
#include "common/base/strings.h"
#include "tests/support/wait_for.h"

extern char** environ;

namespace teleclaude::mesh::testing {

namespace {

// $TMPDIR or /tmp.
std::string TempBase() {
  const char* base = getenv("TMPDIR");
  return base != nullptr && *base != '\0' ? base : "/tmp";
}

// Builds envp: the current environment without `unset`, with `extra`
// overriding.
std::vector<std::string> BuildEnv(const std::vector<std::pair<std::string, std::string>>& extra,
                                  const std::vector<std::string>& unset) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string key = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& [k, v] : extra) overridden |= (k == key);
    for (const std::string& k : unset) overridden |= (k == key);
    if (!overridden) env.push_back(entry);
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// fork + exec with stdout/stderr redirected to fds; the child dies with us.
absl::StatusOr<pid_t> Spawn(const ChildOptions& options, int stdin_fd, int out_fd, int err_fd) {
  const std::vector<std::string>& args = options.args;
  if (args.empty()) return absl::InvalidArgumentError("spawn: no program");
  std::vector<std::string> argv_s = args;
  std::vector<std::string> env_s = BuildEnv(options.env, options.unset_env);
  std::vector<char*> argv = CStrings(argv_s);
  std::vector<char*> envp = CStrings(env_s);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(Cat("fork: ", strerror(errno)));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    // Children start with default signal handling and nothing blocked.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (stdin_fd >= 0) dup2(stdin_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    // Nothing else leaks into the child (a listening socket inherited by a
    // redis-server would keep a test's port busy after its server stopped).
    syscall(SYS_close_range, 3U, ~0U, 0U);
    execvpe(argv[0], argv.data(), envp.data());
    // Only async-signal-safe calls between fork and exec/_exit.
    const char* why = strerror(errno);
    const char* parts[] = {"exec ", argv[0], ": ", why, "\n"};
    for (const char* part : parts) {
      if (write(2, part, strlen(part)) < 0) break;
    }
    _exit(127);
  }
  return pid;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ExitInfo Decode(int status) {
  ExitInfo info;
  if (WIFEXITED(status)) {
    info.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    info.signal = WTERMSIG(status);
  }
  return info;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(ChildOptions options) {
  if (options.args.empty()) return absl::InvalidArgumentError("ChildProcess: no program in args");
  std::string log = options.log_path;
  const bool owns_log = log.empty();
  if (owns_log) {
    std::string tmpl = TempBase() + "/tm-child-XXXXXX.log";
    int fd = mkstemps(tmpl.data(), 4);
    if (fd < 0) return absl::InternalError(Cat("mkstemps ", tmpl, ": ", strerror(errno)));
    close(fd);
    log = tmpl;
  }
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(Cat("open ", log, ": ", strerror(errno)));
  std::string stdout_path;
  int out_fd = fd;
  if (options.separate_stdout) {
    stdout_path = TempBase() + "/tm-child-XXXXXX.out";
    out_fd = mkstemps(stdout_path.data(), 4);
    if (out_fd < 0) {
      close(fd);
      if (owns_log) unlink(log.c_str());
      return absl::InternalError(Cat("mkstemps ", stdout_path, ": ", strerror(errno)));
    }
  }
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  absl::StatusOr<pid_t> pid = Spawn(options, devnull, out_fd, fd);
  close(fd);
  if (out_fd != fd) close(out_fd);
  close(devnull);
  if (!pid.ok()) {
    if (owns_log) unlink(log.c_str());
    if (!stdout_path.empty()) unlink(stdout_path.c_str());
    return pid.status();
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(*pid, log, owns_log, stdout_path));
}

ChildProcess::~ChildProcess() {
  if (Running()) {
    Kill();
    Wait(absl::Seconds(10)).IgnoreError();
  }
  if (owns_log_) unlink(log_path_.c_str());
  if (!stdout_path_.empty()) unlink(stdout_path_.c_str());
}

bool ChildProcess::Running() {
  if (exit_.has_value()) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_ = Decode(status);
    return false;
  }
  return r == 0;
}

void ChildProcess::Terminate() {
  if (Running()) kill(pid_, SIGTERM);
}

void ChildProcess::Kill() {
  if (Running()) kill(pid_, SIGKILL);
}

absl::StatusOr<ExitInfo> ChildProcess::Wait(absl::Duration timeout) {
  const Deadline deadline(timeout);
  while (true) {
    if (!Running()) {
      if (exit_.has_value()) return *exit_;
      return absl::InternalError(Cat("pid ", pid_, " vanished"));
    }
    if (deadline.Passed()) {
      return absl::DeadlineExceededError(
          Cat("pid ", pid_, " still running after ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

std::string ChildProcess::ReadLog() const { return ReadFile(log_path_); }

std::string ChildProcess::ReadStdout() const {
  return stdout_path_.empty() ? std::string() : ReadFile(stdout_path_);
}

absl::StatusOr<std::string> ChildProcess::ReadStdoutLine(absl::Duration timeout) {
  if (stdout_path_.empty()) {
    return absl::FailedPreconditionError("ReadStdoutLine: the child has no separate stdout");
  }
  const Deadline deadline(timeout);
  while (true) {
    // Whether it still runs is asked before reading, so that a line written
    // just before the child ended is still found.
    const bool running = Running();
    const std::string out = ReadStdout();
    const size_t newline = out.find('\n', stdout_read_);
    if (newline != std::string::npos) {
      std::string line = out.substr(stdout_read_, newline - stdout_read_);
      stdout_read_ = newline + 1;
      return line;
    }
    if (!running) {
      return absl::FailedPreconditionError(
          Cat("pid ", pid_, " ended without another line on stdout"));
    }
    if (deadline.Passed()) {
      return absl::DeadlineExceededError(
          Cat("pid ", pid_, " wrote no line on stdout within ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

absl::StatusOr<CommandResult> RunCommand(
    const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& env, absl::Duration timeout,
    const std::string& stdin_text) {
  ChildOptions options;
  options.args = args;
  options.env = env;
  return RunCommand(options, timeout, stdin_text);
}

absl::StatusOr<CommandResult> RunCommand(const ChildOptions& options, absl::Duration timeout,
                                         const std::string& stdin_text) {
  const std::vector<std::string>& args = options.args;
  std::string out_s = TempBase() + "/tm-cmd-out-XXXXXX";
  std::string err_s = TempBase() + "/tm-cmd-err-XXXXXX";
  std::string in_s = TempBase() + "/tm-cmd-in-XXXXXX";
  char* out_t = out_s.data();
  char* err_t = err_s.data();
  char* in_t = in_s.data();
  int out_fd = mkstemp(out_t);
  int err_fd = mkstemp(err_t);
  int in_fd = mkstemp(in_t);
  if (out_fd < 0 || err_fd < 0 || in_fd < 0) {
    for (auto [fd, path] : {std::pair{out_fd, out_t}, {err_fd, err_t}, {in_fd, in_t}}) {
      if (fd >= 0) {
        close(fd);
        unlink(path);
      }
    }
    return absl::InternalError(Cat("mkstemp in ", TempBase(), ": ", strerror(errno)));
  }
  if (!stdin_text.empty()) {
    if (write(in_fd, stdin_text.data(), stdin_text.size()) < 0) {
      return absl::InternalError("write stdin file failed");
    }
    lseek(in_fd, 0, SEEK_SET);
  }
  absl::StatusOr<pid_t> pid = Spawn(options, in_fd, out_fd, err_fd);
  close(out_fd);
  close(err_fd);
  close(in_fd);
  auto slurp = [](const char* path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    unlink(path);
    return ss.str();
  };
  if (!pid.ok()) {
    slurp(out_t);
    slurp(err_t);
    slurp(in_t);
    return pid.status();
  }
  const Deadline deadline(timeout);
  int status = 0;
  bool timed_out = false;
  while (true) {
    pid_t r = waitpid(*pid, &status, WNOHANG);
    if (r == *pid) break;
    if (deadline.Passed()) {
      kill(*pid, SIGKILL);
      waitpid(*pid, &status, 0);
      timed_out = true;
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  CommandResult result;
  result.out = slurp(out_t);
  result.err = slurp(err_t);
  slurp(in_t);
  if (timed_out) {
    return absl::DeadlineExceededError(Cat(args[0], " did not finish within ",
                                           absl::FormatDuration(timeout), "; stdout: ", result.out,
                                           " stderr: ", result.err));
  }
  ExitInfo info = Decode(status);
  result.exit_code = info.exited() ? info.exit_code : -1;
  result.signal = info.signal;
  return result;
}

}  // namespace teleclaude::mesh::testing
