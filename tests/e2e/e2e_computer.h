// One computer of the end-to-end mesh: the real telec-installer, telec-egress
// and telec-ingress binaries of one computer name, started as child processes
// on free loopback ports with their own data dir, and driven through the real
// `telec` binary as a person would (issue 8 §3). The binaries' paths come from
// the build (compile definitions set by tests/e2e/CMakeLists.txt).
#ifndef TELECLAUDE_MESH_TESTS_E2E_E2E_COMPUTER_H_
#define TELECLAUDE_MESH_TESTS_E2E_E2E_COMPUTER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rapidjson/document.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh::e2e {

// The paths of the four binaries; NOT_FOUND naming the binary, the path and
// the fix when one is not built.
absl::StatusOr<std::string> BinaryPath(const std::string& name);

// A parsed JSON document (telec --json output).
using Json = std::shared_ptr<const rapidjson::Document>;
absl::StatusOr<Json> ParseJson(const std::string& text);
// Each non-empty line parsed (lines that are not JSON are skipped).
std::vector<Json> ParseJsonLines(const std::string& text);
// obj[key] as a string ("" when missing or not a string).
std::string Str(const rapidjson::Value& obj, const std::string& key);
// obj[key] as an integer (-1 when missing or not an integer).
int64_t Int(const rapidjson::Value& obj, const std::string& key);
// obj[key] (nullptr when obj is not an object or the key is missing).
const rapidjson::Value* Member(const rapidjson::Value& obj, const std::string& key);
// Compact JSON text of a value (for messages).
std::string ToText(const rapidjson::Value& value);

struct ComputerOptions {
  std::string name;                  // --computer_name
  std::string cluster;               // --cluster ("" = none)
  std::string install_level = "L1";  // --cartridge_install
  std::string redis_url;
  // Appended to every service's command line.
  std::vector<std::string> extra_flags;
  // Appended to one service's command line, by ServiceName() ("egress").
  std::map<std::string, std::vector<std::string>> service_flags;
};

enum class Service { kInstaller, kEgress, kIngress };
const char* ServiceName(Service service);  // "installer", ...

// Not thread-safe. The destructor stops whatever still runs.
class Computer {
 public:
  explicit Computer(ComputerOptions options);
  ~Computer();
  Computer(const Computer&) = delete;
  Computer& operator=(const Computer&) = delete;

  const std::string& name() const { return options_.name; }
  const ComputerOptions& options() const { return options_; }
  std::string Addr(Service service) const;
  // The services' --data_dir (also their --auth_dir: owner.token and
  // service.token are there once a service started).
  std::string data_dir() const { return dir_.File("data"); }

  // Spawns the three services (no waiting). Errors: a binary is not built.
  absl::Status Launch();
  // Waits until `telec status` reports every service up (exit 0). Errors
  // name the service that exited (with its last log lines) or the status
  // output when the deadline passed.
  absl::Status AwaitReady(absl::Duration timeout);

  // SIGTERM each service (ingress, egress, installer), wait up to 10 s, then
  // SIGKILL. Returns a description of every service that did not exit with
  // status 0 on SIGTERM ("" = all clean).
  std::string Stop();
  // SIGKILL every service (no clean shutdown: the heartbeat stays until its
  // TTL) and wait for them. Launch() starts them again on the same data dir
  // and ports.
  void Kill();

  // Runs `telec ARGS... --egress_addr=.. --ingress_addr=.. --installer_addr=..
  // --computer_name=..`.
  absl::StatusOr<testing::CommandResult> Telec(const std::vector<std::string>& args,
                                               absl::Duration timeout = absl::Seconds(30));
  // The same with --json; the command must exit 0 and print one JSON value.
  absl::StatusOr<Json> TelecJson(const std::vector<std::string>& args);
  // `telec ARGS... --json` as a long-running child (e.g. events tail) whose
  // output goes to a log file (read it with ChildProcess::ReadLog).
  absl::StatusOr<std::unique_ptr<testing::ChildProcess>> StartTelec(
      const std::vector<std::string>& args);

  // Sends `signo` to one service (e.g. SIGSTOP / SIGCONT: a service that
  // stops answering while the others run). FAILED_PRECONDITION when it does
  // not run.
  absl::Status Signal(Service service, int signo);

  // The last `lines` lines of each service's log.
  std::string LogTails(int lines = 15) const;

 private:
  std::vector<std::string> ServiceFlags() const;
  std::vector<std::string> ClientFlags() const;

  const ComputerOptions options_;
  testing::TempDir dir_;
  std::map<Service, int> ports_;
  std::map<Service, std::unique_ptr<testing::ChildProcess>> children_;
  int tails_ = 0;
};

// How many system.worker.crashed notifications `c` holds per payload
// worker_name (the token the mesh tests emit; `telec notifications list`).
std::map<std::string, int> CrashedNotificationsByWorker(Computer& c);

// Waits up to `timeout` until `c` holds a crashed notification for every
// token, then reports what arrived: how many tokens are missing and which
// arrived more than once (nothing lost, nothing doubled when both are empty).
struct EachOnce {
  int missing = 0;
  std::vector<std::string> doubled;  // "token xN"
};
EachOnce AwaitEachCrashedOnce(Computer& c, const std::vector<std::string>& tokens,
                              absl::Duration timeout);

}  // namespace teleclaude::mesh::e2e

#endif  // TELECLAUDE_MESH_TESTS_E2E_E2E_COMPUTER_H_
