// One benchmark computer: the real service binaries (telec-installer,
// telec-egress, telec-ingress) of one computer name, started as child
// processes on free loopback ports with their own data dir, plus gRPC stubs
// to drive them and peak-RSS sampling (/proc/PID/status VmHWM).
#ifndef TELECLAUDE_MESH_TESTS_BENCH_BENCH_COMPUTER_H_
#define TELECLAUDE_MESH_TESTS_BENCH_BENCH_COMPUTER_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "teleclaude/mesh/v1/ingress.grpc.pb.h"
#include "teleclaude/mesh/v1/pipeline.grpc.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh::bench {

// Which services of a computer run.
enum Service : int { kInstaller = 1, kEgress = 2, kIngress = 4 };

struct ComputerOptions {
  std::string name;     // --computer_name
  std::string cluster;  // --cluster ("" = none)
  std::string redis_url;
  // The CMake build directory holding services/<svc>/telec-<svc>.
  std::string build_dir;
  int services = kInstaller | kEgress | kIngress;
  // Appended to every service's command line (e.g. --peer_refresh_ms=200).
  std::vector<std::string> extra_flags;
  // Appended to telec-egress's command line only (e.g. --wal_checkpoints=writer).
  std::vector<std::string> egress_flags;
};

// The binary of `service` under `build_dir`; NOT_FOUND naming the path and
// the fix when it is not built.
absl::StatusOr<std::string> ServiceBinary(const std::string& build_dir, Service service);
// "telec-egress" etc.
const char* ServiceName(Service service);

// Not thread-safe, except the gRPC stubs (thread-safe as gRPC stubs are).
// The destructor stops whatever still runs (SIGTERM, then SIGKILL after 10 s).
class BenchComputer {
 public:
  explicit BenchComputer(ComputerOptions options);
  ~BenchComputer();
  BenchComputer(const BenchComputer&) = delete;
  BenchComputer& operator=(const BenchComputer&) = delete;

  const std::string& name() const { return options_.name; }
  // "teleclaude:events:{name}" (DESIGN §6 default).
  std::string local_stream() const;

  // Starts the selected services (installer, egress, ingress — the order
  // they depend on each other) and waits until each answers on its port.
  // Errors say which binary is missing, exited (with its last log lines) or
  // did not answer within 20 s.
  absl::Status Start();
  // With `await_ready` false it returns once the process is spawned (the
  // caller times the start-up itself); AwaitReady() waits later.
  absl::Status StartService(Service service, bool await_ready = true);
  absl::Status AwaitReady(Service service, absl::Duration timeout = absl::Seconds(20));
  // SIGTERM, wait up to 10 s (then SIGKILL). Samples RSS first.
  void StopService(Service service);
  void StopAll();
  bool Running(Service service);

  // Reads VmHWM of every running service and keeps the maximum.
  void SampleRss();
  // Peak RSS in MB per service name ("egress", "ingress", "installer") of
  // every service that ran.
  std::map<std::string, double> RssMaxMb() const { return rss_max_mb_; }
  // The PID of each running service, by service name.
  std::map<std::string, pid_t> Pids() const;

  teleclaude::mesh::v1::Pipeline::Stub* pipeline() { return pipeline_.get(); }
  teleclaude::mesh::v1::Ingress::Stub* ingress() { return ingress_.get(); }

  // Pipeline.Stats / Ingress.Status with a deadline.
  absl::StatusOr<teleclaude::mesh::v1::StatsResponse> Stats(
      absl::Duration timeout = absl::Seconds(5));
  absl::StatusOr<teleclaude::mesh::v1::IngressStatusResponse> IngressStatus(
      absl::Duration timeout = absl::Seconds(5));
  // Names of the peers egress currently knows (Pipeline.ListPeers).
  absl::StatusOr<std::vector<std::string>> Peers();
  // Every notification whose type starts with `type_prefix` (paged
  // ListNotifications): the number of rows and the distinct idempotency keys.
  struct NotificationCount {
    int64_t rows = 0;
    int64_t distinct_keys = 0;
  };
  absl::StatusOr<NotificationCount> CountNotifications(const std::string& type_prefix);

  // The computer's --data_dir (events.db, installer.db, ingress.db live there).
  std::string data_dir() const;

  // The last lines of a service's log (for error messages).
  std::string LogTail(Service service, int lines = 5) const;

 private:
  std::string Addr(Service service) const;
  std::vector<std::string> CommonFlags() const;

  const ComputerOptions options_;
  testing::TempDir dir_;
  std::map<Service, int> ports_;
  std::map<Service, std::unique_ptr<testing::ChildProcess>> children_;
  std::map<std::string, double> rss_max_mb_;
  std::unique_ptr<teleclaude::mesh::v1::Pipeline::Stub> pipeline_;
  std::unique_ptr<teleclaude::mesh::v1::Ingress::Stub> ingress_;
};

// VmHWM of `pid` in MB; -1 when it cannot be read.
double PeakRssMb(pid_t pid);
// utime + stime of `pid` (all its threads) in seconds; -1 when it cannot be
// read (/proc/PID/stat).
double CpuSeconds(pid_t pid);
// utime + stime of each thread of `pid` in seconds, by thread id (empty
// when /proc/PID/task cannot be read).
std::map<pid_t, double> ThreadCpuSeconds(pid_t pid);
// The machine's CPU time since boot from /proc/stat: busy and total, in
// seconds summed over all CPUs.
struct MachineCpu {
  double busy = 0;
  double total = 0;
};
MachineCpu ReadMachineCpu();

}  // namespace teleclaude::mesh::bench

#endif  // TELECLAUDE_MESH_TESTS_BENCH_BENCH_COMPUTER_H_
