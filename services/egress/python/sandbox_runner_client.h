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
// runner unavailable and wakes the health thread. A connected exchange that
// fails (timeout, closed early, oversized frame) is the cartridge's failure.
// When the exchange timed out, the client pings at once (stall_probe_timeout)
// to tell a slow cartridge from a stuck runner: the reference runner is one
// asyncio loop, so a cartridge that blocks it (time.sleep, a busy loop) stops
// every answer, pings included. No answer to that ping marks the runner
// unavailable ("...; it stopped answering during cartridge NAME", kept until
// a ping succeeds) and wakes the health thread, so the other cartridges are
// skipped rather than each failing against a runner that answers nobody.
// A ping started before such a stall never marks the runner available.
//
// Thread-safe. Exchange() may run on any thread (the pipeline worker);
// the health thread is the only other one.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_PYTHON_SANDBOX_RUNNER_CLIENT_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_PYTHON_SANDBOX_RUNNER_CLIENT_H_

#include <cstdint>
#include <optional>
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
    // The ping after a timed-out exchange: an answering runner answers a
    // ping in about a millisecond. Adds at most this to a timed-out call.
    absl::Duration stall_probe_timeout = absl::Milliseconds(100);
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

  // Sends `request_frame` (a call of cartridge `cartridge`) on a new
  // connection and returns the response body (frame header checked against
  // the 4 MiB limit). Returns within `budget` plus stall_probe_timeout plus
  // a few milliseconds, whatever the runner does. Errors:
  //  * Unavailable "python runner unavailable: connect PATH: <errno text>"
  //    (also marks the runner unavailable);
  //  * DeadlineExceeded "the runner did not answer within 250ms" (and,
  //    when the stall probe gets no answer either, the runner is marked
  //    unavailable: see above);
  //  * DataLoss "the runner closed the connection after N of M bytes"
  //    (runner.py closes without an answer on a frame or internal error);
  //  * InvalidArgument for an oversized frame header.
  absl::StatusOr<std::string> Exchange(std::string_view cartridge, std::string_view request_frame,
                                       absl::Duration budget);

 private:
  void Run();
  // Exchange() without touching the state.
  absl::StatusOr<std::string> Transfer(std::string_view request_frame, absl::Duration budget);
  // One ping within `timeout`: "" when the runner answered {error: null},
  // else why not.
  std::string Ping(absl::Duration timeout);
  // Sets the state; `ping_generation` (when given) is stall_generation_ as
  // it was when that ping started: a stall seen since then wins.
  void SetState(std::string reason, std::optional<uint64_t> ping_generation = std::nullopt);

  const Options options_;
  mutable absl::Mutex mu_;
  std::string unavailable_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  // The cartridge whose call the runner stopped answering during ("" when
  // none since the last successful ping), and how many such stalls so far.
  std::string stalled_during_ ABSL_GUARDED_BY(mu_);
  uint64_t stall_generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_PYTHON_SANDBOX_RUNNER_CLIENT_H_
