// A client of TeleClaude's sandbox runner (runner_protocol.h): one Unix-socket
// connection per exchange, every exchange within a wall-time budget, and a
// health thread that pings the runner (`__ping__`) and keeps a one-line
// "available or why not" state for the pipeline and `telec`.
//
// State: Unavailable() is "" after a successful ping or exchange, otherwise
// the reason ("no sandbox runner configured (--python_runner_socket is
// empty)", "python runner unavailable: connect /run/sandbox/sandbox.sock: No
// such file or directory"). While the runner is unavailable the health
// thread pings with exponential backoff (retry_min doubling to retry_max);
// while it is available, every ping_interval, so a runner that went away is
// seen even when no event needs it. An exchange whose connect fails marks the
// runner unavailable and wakes the health thread; a connected exchange that
// fails (timeout, closed early, oversized frame) is the cartridge's failure
// and leaves the state alone (a runner that stops answering pings becomes
// unavailable on the next ping).
//
// Thread-safe. Exchange() may run on any thread (the pipeline worker);
// the health thread is the only other one.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_PYTHON_SANDBOX_RUNNER_CLIENT_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_PYTHON_SANDBOX_RUNNER_CLIENT_H_

#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace teleclaude::mesh {

class SandboxRunnerClient {
 public:
  struct Options {
    std::string socket_path;  // empty: no runner configured
    absl::Duration ping_interval = absl::Seconds(5);
    absl::Duration ping_timeout = absl::Seconds(2);  // container.py's _HEALTH_TIMEOUT
    absl::Duration retry_min = absl::Milliseconds(200);
    absl::Duration retry_max = absl::Seconds(5);
  };

  explicit SandboxRunnerClient(Options options);
  ~SandboxRunnerClient();  // Stop()

  // Pings once (at most ping_timeout), then starts the health thread. No
  // thread without a socket path.
  void Start();
  void Stop();

  // "" when the runner is available; otherwise the one-line reason.
  std::string Unavailable() const;
  const std::string& socket_path() const { return options_.socket_path; }

  // Sends `request_frame` on a new connection and returns the response body
  // (frame header checked against the 4 MiB limit). Returns within `budget`
  // plus a few milliseconds, whatever the runner does. Errors:
  //  * Unavailable "python runner unavailable: connect PATH: <errno text>"
  //    (also marks the runner unavailable);
  //  * DeadlineExceeded "the runner did not answer within 250ms";
  //  * DataLoss "the runner closed the connection after N of M bytes"
  //    (runner.py closes without an answer on a frame or internal error);
  //  * InvalidArgument for an oversized frame header.
  absl::StatusOr<std::string> Exchange(std::string_view request_frame, absl::Duration budget);

 private:
  void Run();
  // Exchange() without touching the state.
  absl::StatusOr<std::string> Transfer(std::string_view request_frame, absl::Duration budget);
  // One ping: "" when the runner answered {error: null}, else why not.
  std::string Ping();
  void SetState(std::string reason);

  const Options options_;
  mutable absl::Mutex mu_;
  std::string unavailable_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_PYTHON_SANDBOX_RUNNER_CLIENT_H_
