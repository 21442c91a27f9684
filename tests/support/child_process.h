// Child processes for integration and end-to-end tests: the real service
// binaries, redis-server, telec. Children die with the test process
// (PR_SET_PDEATHSIG) and are stopped only by their own PID.
#ifndef TELECLAUDE_MESH_TESTS_SUPPORT_CHILD_PROCESS_H_
#define TELECLAUDE_MESH_TESTS_SUPPORT_CHILD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace teleclaude::mesh::testing {

struct ChildOptions {
  std::vector<std::string> args;  // args[0] = the program (a path, or a name found on PATH)
  std::vector<std::pair<std::string, std::string>> env;  // added to the test's environment
  // stdout+stderr go here (appended). Empty = a new file in $TMPDIR or /tmp,
  // removed when the ChildProcess dies.
  std::string log_path;
  // Variables of the test's environment the child does not get (before
  // `env` is added).
  std::vector<std::string> unset_env = {};
  // Whether stdout goes to a file of its own (ReadStdout, ReadStdoutLine)
  // instead of the log, which then holds stderr only.
  bool separate_stdout = false;
};

// How a child ended.
struct ExitInfo {
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal killed it
  bool exited() const { return signal == 0; }
};

// One spawned child (fork + exec). The child gets the test's environment plus
// `env`, stdin from /dev/null, no other inherited file descriptors, and
// SIGKILL when the test process dies (PR_SET_PDEATHSIG: strictly, when the
// thread that started it exits — start children from the test's main
// thread or a thread that outlives them). Not thread-safe. The destructor SIGKILLs
// the child if it still runs (and reaps it).
class ChildProcess {
 public:
  // Starts the child; INVALID_ARGUMENT without args, INTERNAL when it cannot
  // be forked. A program that cannot be exec'd exits with code 127 and says
  // why in the log.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(ChildOptions options);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  bool Running();
  void Terminate();  // SIGTERM
  void Kill();       // SIGKILL
  // Waits for the child to end (polling, so it composes with Running());
  // DEADLINE_EXCEEDED after `timeout` (the child keeps running).
  absl::StatusOr<ExitInfo> Wait(absl::Duration timeout);
  // The log so far.
  std::string ReadLog() const;
  // With separate_stdout: stdout so far (empty otherwise).
  std::string ReadStdout() const;
  // With separate_stdout: the next complete line of stdout (without its
  // newline) once the child has written it; DEADLINE_EXCEEDED after
  // `timeout`, FAILED_PRECONDITION when the child ended without writing one.
  absl::StatusOr<std::string> ReadStdoutLine(absl::Duration timeout);

 private:
  ChildProcess(pid_t pid, std::string log_path, bool owns_log, std::string stdout_path)
      : pid_(pid),
        log_path_(std::move(log_path)),
        owns_log_(owns_log),
        stdout_path_(std::move(stdout_path)) {}
  pid_t pid_;
  std::string log_path_;
  bool owns_log_;
  std::string stdout_path_;  // empty without separate_stdout; always owned
  size_t stdout_read_ = 0;   // bytes of stdout ReadStdoutLine has returned
  std::optional<ExitInfo> exit_;
};

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that killed it, 0 when it exited
  std::string out;
  std::string err;
};

// Runs a command to completion, capturing stdout and stderr separately;
// DEADLINE_EXCEEDED (after killing it) when it runs longer than `timeout`.
absl::StatusOr<CommandResult> RunCommand(
    const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& env = {},
    absl::Duration timeout = absl::Seconds(30), const std::string& stdin_text = "");
// The same with the program and environment of `options` (args, env,
// unset_env; log_path and separate_stdout do not apply).
absl::StatusOr<CommandResult> RunCommand(const ChildOptions& options, absl::Duration timeout,
                                         const std::string& stdin_text = "");

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SUPPORT_CHILD_PROCESS_H_
