// deploy/run-local.sh as the README uses it: a detached local mesh (plain,
// and --tls with its own TLS redis-server), a cluster event from alpha that
// reaches beta and not gamma, then `run-local.sh stop`. Ports and the data
// dir are the test's own (--redis-port, --base-port, --data-dir), so runs on
// a shared machine do not meet.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::CommandResult;
using ::teleclaude::mesh::testing::RunCommand;
using ::teleclaude::mesh::testing::TempDir;
using ::teleclaude::mesh::testing::WaitFor;

bool PortFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return free;
}

// A first service port B with B+10i+{0,1,2} free for `computers` computers.
int FreeBasePort(int computers) {
  for (;;) {
    int base = testing::FreeLoopbackPort();
    if (base + 10 * computers > 65535) continue;
    bool all = true;
    for (int i = 0; i < computers && all; ++i) {
      for (int k = 0; k < 3 && all; ++k) all = PortFree(base + 10 * i + k);
    }
    if (all) return base;
  }
}

// One run of the script in its own data dir; stops what it started when
// the test ends, whatever happened.
class RunLocal {
 public:
  explicit RunLocal(int computers)
      : redis_port_(testing::FreeLoopbackPort()), base_(FreeBasePort(computers)) {}
  ~RunLocal() { Script({"stop"}).IgnoreError(); }

  absl::StatusOr<CommandResult> Script(std::vector<std::string> args) {
    std::vector<std::string> argv = {"bash", TM_RUN_LOCAL};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--data-dir");
    argv.push_back(dir_.path().string());
    argv.push_back("--build-dir");
    argv.push_back(TM_BUILD_DIR);
    return RunCommand(argv, {}, absl::Seconds(180));
  }
  absl::StatusOr<CommandResult> Up(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"--detach", "--redis-port", std::to_string(redis_port_),
                                     "--base-port", std::to_string(base_)};
    args.insert(args.end(), extra.begin(), extra.end());
    return Script(args);
  }

  // `telec ARGS` against computer i (0 = alpha).
  absl::StatusOr<CommandResult> Telec(int i, std::vector<std::string> args) {
    const int port = base_ + 10 * i;
    std::vector<std::string> argv = {TM_TELEC};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(absl::StrCat("--egress_addr=127.0.0.1:", port));
    argv.push_back(absl::StrCat("--ingress_addr=127.0.0.1:", port + 1));
    argv.push_back(absl::StrCat("--installer_addr=127.0.0.1:", port + 2));
    // Each computer's owner token is in its own data dir (doc/security.md).
    static constexpr const char* kNames[] = {"alpha", "beta", "gamma", "delta"};
    argv.push_back(absl::StrCat("--data_dir=", (dir_.path() / kNames[i]).string()));
    return RunCommand(argv);
  }

  // Once alpha lists beta as a peer, emits cluster events on alpha whose
  // worker_name starts with `worker` until beta has one (each attempt has
  // its own worker_name, the event's idempotency key, or alpha's dedup would
  // drop the later ones). Returns "" or what went wrong, with both
  // computers' `telec status` and `telec peers`.
  std::string ClusterEventReachesBeta(const std::string& worker) {
    std::string last;
    int attempt = 0;
    bool arrived =
        WaitFor(
            [&] {
              auto peers = Telec(0, {"peers", "--json"});
              last = peers.ok() ? peers->out + peers->err : std::string(peers.status().message());
              return peers.ok() && absl::StrContains(peers->out, R"("name":"beta")");
            },
            absl::Seconds(30), absl::Milliseconds(200)) &&
        WaitFor(
            [&] {
              auto emit =
                  Telec(0, {"events", "emit", "system.worker.crashed", "--payload",
                            absl::StrCat(R"({"worker_name":")", worker, "-", ++attempt, R"("})"),
                            "--visibility", "cluster"});
              if (!emit.ok() || emit->exit_code != 0) {
                last = emit.ok() ? emit->err : std::string(emit.status().message());
                return false;
              }
              return WaitFor([&] { return absl::StrContains(Notifications(1, &last), worker); },
                             absl::Seconds(5), absl::Milliseconds(100));
            },
            absl::Seconds(30), absl::Milliseconds(100));
    if (arrived) return "";
    std::string status;
    for (int i : {0, 1}) {
      for (const char* what : {"status", "peers"}) {
        auto out = Telec(i, {what});
        if (out.ok()) absl::StrAppend(&status, out->out, out->err);
      }
    }
    return absl::StrCat("beta never listed the event: ", last, "\n", status);
  }

  // `telec notifications list --json` of computer i ("" on failure, with
  // the reason in *last).
  std::string Notifications(int i, std::string* last) {
    auto list = Telec(i, {"notifications", "list", "--json"});
    if (!list.ok() || list->exit_code != 0) {
      *last = list.ok() ? list->err : std::string(list.status().message());
      return "";
    }
    *last = list->out;
    return list->out;
  }

  const std::filesystem::path& dir() const { return dir_.path(); }
  int redis_port() const { return redis_port_; }

 private:
  TempDir dir_;
  const int redis_port_;
  const int base_;
};

// The README's walk: `run-local.sh [--tls] --computers 3 --detach`, then a
// cluster event from alpha reaches beta (cluster x) and not gamma (no
// cluster). `scheme` is what the script must report for its redis-server.
void StartsAndRoutesAClusterEvent(RunLocal& run, std::vector<std::string> flags,
                                  const std::string& scheme) {
  flags.insert(flags.end(), {"--computers", "3"});
  auto up = run.Up(flags);
  ASSERT_TRUE(up.ok()) << up.status();
  ASSERT_EQ(up->exit_code, 0) << up->out << up->err;
  EXPECT_TRUE(absl::StrContains(
      up->out, absl::StrCat("redis-server on ", scheme, "://127.0.0.1:", run.redis_port(), "/0")))
      << up->out;
  const std::string worker = absl::StrCat("run-local-", scheme, "-", getpid());
  ASSERT_EQ(run.ClusterEventReachesBeta(worker), "");
  std::string last;
  EXPECT_EQ(run.Notifications(2, &last).find(worker), std::string::npos)
      << "gamma (no cluster) got a cluster event: " << last;
}

// `run-local.sh stop` stops what it started.
void StopsEverything(RunLocal& run) {
  auto stop = run.Script({"stop"});
  ASSERT_TRUE(stop.ok()) << stop.status();
  EXPECT_EQ(stop->exit_code, 0) << stop->err;
  EXPECT_TRUE(absl::StrContains(stop->out, "stopped redis-server")) << stop->out;
  EXPECT_TRUE(absl::StrContains(stop->out, "stopped gamma/ingress")) << stop->out;
  EXPECT_FALSE(std::filesystem::exists(run.dir() / "run-local.pids"));
}

TEST(RunLocalTest, MeshOfThreeRoutesAClusterEventAndStops) {
  RunLocal run(3);
  ASSERT_NO_FATAL_FAILURE(StartsAndRoutesAClusterEvent(run, {}, "redis"));
  StopsEverything(run);
}

TEST(RunLocalTest, TlsMeshRunsOnItsOwnTlsOnlyRedis) {
  RunLocal run(3);
  ASSERT_NO_FATAL_FAILURE(StartsAndRoutesAClusterEvent(run, {"--tls"}, "rediss"));
  EXPECT_TRUE(std::filesystem::exists(run.dir() / "tls" / "ca.crt"));
  // The server speaks only TLS: a plain client gets no answer.
  auto plain = RunCommand({"redis-cli", "-p", std::to_string(run.redis_port()), "ping"});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(absl::StrContains(plain->out, "PONG")) << plain->out;
  StopsEverything(run);
}

}  // namespace
}  // namespace teleclaude::mesh
