// deploy/run-local.sh as the README uses it: a detached local mesh (plain,
// and --tls with its own TLS redis-server), a cluster event from alpha that
// reaches beta and not gamma, then `run-local.sh stop`. Ports and the data
// dir are the test's own (--redis-port, --base-port, --data-dir), so runs on
// a shared machine do not meet.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
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

// `bash run-local.sh ARGS` as given (no --data-dir added).
absl::StatusOr<CommandResult> RunScript(std::vector<std::string> args) {
  std::vector<std::string> argv = {"bash", TM_RUN_LOCAL};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, {}, absl::Seconds(180));
}

// A socket listening on a free loopback port until destroyed: a port in use.
class Listener {
 public:
  Listener() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
        listen(fd_, 4) == 0 && getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~Listener() {
    if (fd_ >= 0) close(fd_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  int port() const { return port_; }

 private:
  const int fd_;
  int port_ = 0;
};

// One run of the script in its own data dir; stops what it started when
// the test ends, whatever happened.
class RunLocal {
 public:
  explicit RunLocal(int computers)
      : redis_port_(testing::FreeLoopbackPort()), base_(FreeBasePort(computers)) {}
  ~RunLocal() { Script({"stop"}).IgnoreError(); }

  absl::StatusOr<CommandResult> Script(std::vector<std::string> args) {
    args.insert(args.end(), {"--data-dir", dir_.path().string(), "--build-dir", TM_BUILD_DIR});
    return RunScript(std::move(args));
  }
  // Starts detached on this run's ports; `extra` may repeat --redis-port or
  // --base-port to override them.
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

TEST(RunLocalTest, HelpPrintsTheUsageOnly) {
  auto help = RunScript({"--help"});
  ASSERT_TRUE(help.ok()) << help.status();
  EXPECT_EQ(help->exit_code, 0) << help->err;
  EXPECT_TRUE(absl::StrContains(help->out, "Options: --data-dir DIR")) << help->out;
  EXPECT_FALSE(absl::StrContains(help->out, "set -euo")) << help->out;
  EXPECT_FALSE(absl::StrContains(help->out, "#")) << help->out;
}

// Invalid options are refused with a line naming the option (exit 2) before
// anything starts: no pid file, no Redis directory.
TEST(RunLocalTest, InvalidOptionsStartNothing) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--cartridge-install", "L9"}, "--cartridge-install must be L1, L2 or L3, got 'L9'"},
      {{"--base-port", "70000"}, "--base-port must be a port number 1..65535, got 70000"},
      {{"--redis-port", "x"}, "--redis-port must be a port number 1..65535, got 'x'"},
      {{"--computers", "3", "--base-port", "65520"}, "leaves no room for 3 computer(s)"},
      {{"--redis-url", "http://h"}, "--redis-url must be redis://"},
      {{"--computers"}, "--computers needs a value"},
      {{"--python-runner", "bogus"}, "--python-runner must be 'test' or a TeleClaude checkout"},
      {{"--python-runner", "test", "--python-runner-socket", "/tmp/s"}, "exclude each other"},
      {{"--computers", "2", "--python-runner-socket", "/tmp/s"},
       "--python-runner-socket serves one computer"},
  };
  for (const auto& [flags, message] : cases) {
    RunLocal run(1);
    auto up = run.Up(flags);
    ASSERT_TRUE(up.ok()) << up.status();
    EXPECT_EQ(up->exit_code, 2) << up->out << up->err;
    EXPECT_TRUE(absl::StrContains(up->err, message)) << up->err;
    EXPECT_FALSE(std::filesystem::exists(run.dir() / "run-local.pids")) << message;
    EXPECT_FALSE(std::filesystem::exists(run.dir() / "redis")) << message;
  }
}

// A port in use, Redis's or a service's, is named in one line (exit 1) and
// nothing starts.
TEST(RunLocalTest, APortInUseIsNamedAndNothingStarts) {
  Listener busy;
  ASSERT_NE(busy.port(), 0);
  const std::string port = std::to_string(busy.port());
  {
    RunLocal run(1);
    auto up = run.Up({"--redis-port", port});
    ASSERT_TRUE(up.ok()) << up.status();
    EXPECT_EQ(up->exit_code, 1) << up->out << up->err;
    EXPECT_EQ(up->err, absl::StrCat("run-local: port ", port,
                                    " (redis-server) is in use on 127.0.0.1; choose another with "
                                    "--redis-port, or --redis-url to use that Redis\n"));
    EXPECT_FALSE(std::filesystem::exists(run.dir() / "redis"));
  }
  {
    RunLocal run(1);
    auto up = run.Up({"--base-port", port});
    ASSERT_TRUE(up.ok()) << up.status();
    EXPECT_EQ(up->exit_code, 1) << up->out << up->err;
    EXPECT_TRUE(
        absl::StrContains(up->err, absl::StrCat("port ", port, " (alpha/egress) is in use")))
        << up->err;
    EXPECT_FALSE(std::filesystem::exists(run.dir() / "redis"));
  }
}

// What the script prints after starting works as printed: the "Try it"
// lines (telec's addresses and owner token for alpha) create a
// notification, and the stop hint repeats --data-dir. A stop given another
// data dir while this set runs says so and fails.
TEST(RunLocalTest, OneComputerFollowsItsHintsAndStopNeedsItsDataDir) {
  RunLocal run(1);
  // With the test sandbox runner (Python cartridges, doc/cartridges.md).
  auto up = run.Up({"--python-runner", "test"});
  ASSERT_TRUE(up.ok()) << up.status();
  ASSERT_EQ(up->exit_code, 0) << up->out << up->err;
  EXPECT_TRUE(
      absl::StrContains(up->out, absl::StrCat("run-local: alpha: python runner at ",
                                              run.dir().string(), "/alpha/sandbox.sock (test)\n")))
      << up->out;
  EXPECT_TRUE(absl::StrContains(
      up->out,
      absl::StrCat("stop with: deploy/run-local.sh stop --data-dir ", run.dir().string(), "\n")))
      << up->out;
  // The lines after "Try it", up to the blank line's end of block.
  size_t at = up->out.find("Try it");
  ASSERT_NE(at, std::string::npos) << up->out;
  at = up->out.find('\n', at) + 1;
  std::string script;
  for (int line = 0; line < 4; ++line) {
    size_t end = up->out.find('\n', at);
    ASSERT_NE(end, std::string::npos) << up->out;
    absl::StrAppend(&script, up->out.substr(at, end - at), " &&\n");
    at = end + 1;
  }
  absl::StrAppend(&script, "true");
  auto tried = RunCommand({"bash", "-c", script});
  ASSERT_TRUE(tried.ok()) << tried.status();
  EXPECT_EQ(tried->exit_code, 0) << script << "\n" << tried->out << tried->err;
  EXPECT_TRUE(absl::StrContains(tried->out, "system.worker.crashed  local")) << tried->out;

  TempDir other;
  auto wrong = RunScript({"stop", "--data-dir", other.path().string()});
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_EQ(wrong->exit_code, 1) << wrong->out << wrong->err;
  EXPECT_TRUE(
      absl::StrContains(wrong->err, absl::StrCat("nothing to stop in ", other.path().string())))
      << wrong->err;
  EXPECT_TRUE(absl::StrContains(wrong->err, run.dir().string())) << wrong->err;
  EXPECT_EQ(std::count(wrong->err.begin(), wrong->err.end(), '\n'), 1) << wrong->err;

  auto stop = run.Script({"stop"});
  ASSERT_TRUE(stop.ok()) << stop.status();
  EXPECT_EQ(stop->exit_code, 0) << stop->err;
  EXPECT_TRUE(absl::StrContains(stop->out, "stopped alpha/egress")) << stop->out;
  EXPECT_TRUE(absl::StrContains(stop->out, "stopped alpha/python-runner")) << stop->out;
}

}  // namespace
}  // namespace teleclaude::mesh
