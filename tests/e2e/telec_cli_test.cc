// The real `telec` binary against the real services of one computer
// ("laptop", cluster "home": telec-installer, telec-egress, telec-ingress as
// child processes) on a real redis-server: every subcommand's output and exit
// status, the error paths included. No service code is linked here; telec
// is driven exactly as a person would run it.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/base/strings.h"
#include "common/identity/identity_key.h"
#include "common/mesh/heartbeat.h"
#include "common/mesh/mesh_message.h"
#include "glog/logging.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
#include "tests/support/pair_keys.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using testing::ChildOptions;
using testing::ChildProcess;
using testing::CommandResult;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kTelec = TELEC_BIN;
constexpr const char* kInstaller = TELEC_INSTALLER_BIN;
constexpr const char* kEgress = TELEC_EGRESS_BIN;
constexpr const char* kIngress = TELEC_INGRESS_BIN;

bool Executable(const char* path) { return path[0] != '\0' && access(path, X_OK) == 0; }

// One computer's services, shared by every test of the suite (starting them
// is the slow part; each test uses its own names and event types).
struct Computer {
  testing::RedisServer redis;
  testing::TempDir dir;
  std::string egress = Cat("127.0.0.1:", testing::FreeLoopbackPort());
  std::string ingress = Cat("127.0.0.1:", testing::FreeLoopbackPort());
  std::string installer = Cat("127.0.0.1:", testing::FreeLoopbackPort());
  std::vector<std::unique_ptr<ChildProcess>> services;

  std::vector<std::pair<std::string, std::string>> Env() const {
    return {{"TELEC_EGRESS_ADDR", egress},
            {"TELEC_INGRESS_ADDR", ingress},
            {"TELEC_INSTALLER_ADDR", installer},
            {"TELEC_COMPUTER_NAME", "laptop"},
            // telec reads the owner token there (doc/security.md).
            {"TELEC_DATA_DIR", dir.File("laptop")}};
  }

  absl::Status Start() {
    for (const char* binary : {kInstaller, kEgress, kIngress}) {
      ChildOptions options;
      options.args = {binary,
                      "--computer_name=laptop",
                      "--cluster=home",
                      Cat("--redis_url=", redis.url()),
                      Cat("--data_dir=", dir.File("laptop")),
                      Cat("--egress_addr=", egress),
                      Cat("--ingress_addr=", ingress),
                      Cat("--installer_addr=", installer),
                      "--peer_refresh_ms=100"};
      options.log_path = dir.File(
          Cat(std::string_view(binary).substr(std::string_view(binary).rfind('/') + 1), ".log"));
      absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Start(options);
      if (!child.ok()) return child.status();
      services.push_back(*std::move(child));
    }
    // Ready when telec itself sees all three up.
    bool up = testing::WaitFor(
        [&] {
          absl::StatusOr<CommandResult> r =
              testing::RunCommand({kTelec, "status"}, Env(), absl::Seconds(10));
          return r.ok() && r->exit_code == 0;
        },
        absl::Seconds(30), absl::Milliseconds(200));
    if (!up) {
      std::string logs;
      for (auto& s : services) CatTo(logs, "--- ", s->log_path(), "\n", s->ReadLog());
      return absl::DeadlineExceededError(Cat("services did not come up:\n", logs));
    }
    return absl::OkStatus();
  }
};

class TelecCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!Executable(kTelec) || !Executable(kInstaller) || !Executable(kEgress) ||
        !Executable(kIngress)) {
      return;
    }
    computer_ = new Computer();
    absl::Status started = computer_->Start();
    if (!started.ok()) {
      start_error_ = new std::string(started.message());
    }
  }
  static void TearDownTestSuite() {
    delete computer_;  // stops every child (by PID) and redis-server
    computer_ = nullptr;
  }

  void SetUp() override {
    if (computer_ == nullptr) {
      FAIL() << "needs the binaries telec (" << kTelec << "), telec-installer (" << kInstaller
             << "), telec-egress (" << kEgress << ") and telec-ingress (" << kIngress
             << "); build them: ninja telec telec-installer telec-egress "
             << "telec-ingress";
    }
    ASSERT_EQ(start_error_, nullptr) << *start_error_;
  }

  // Runs telec with the computer's addresses in TELEC_* variables.
  static CommandResult Telec(std::vector<std::string> args,
                             std::vector<std::pair<std::string, std::string>> env = {}) {
    args.insert(args.begin(), kTelec);
    // `env` overrides the computer's variables of the same name.
    std::vector<std::pair<std::string, std::string>> all = env;
    // A plain pair, not a structured binding: clang 14 cannot capture a
    // structured binding in a lambda.
    for (const auto& var : computer_->Env()) {
      const std::string& name = var.first;
      if (std::none_of(env.begin(), env.end(), [&](const auto& e) { return e.first == name; })) {
        all.emplace_back(var.first, var.second);
      }
    }
    absl::StatusOr<CommandResult> r = testing::RunCommand(args, all, absl::Seconds(30));
    CHECK(r.ok()) << r.status();
    return *r;
  }

  std::string File(const std::string& name, const std::string& content) {
    std::string path = computer_->dir.File(name);
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  static Computer* computer_;
  static std::string* start_error_;
};

Computer* TelecCliTest::computer_ = nullptr;
std::string* TelecCliTest::start_error_ = nullptr;

// One line on stderr, nothing on stdout.
#define EXPECT_ONE_LINE_ERROR(result, code, prefix)                                           \
  do {                                                                                        \
    EXPECT_EQ((result).exit_code, code) << (result).err;                                      \
    EXPECT_THAT((result).err, StartsWith(prefix));                                            \
    EXPECT_EQ(std::count((result).err.begin(), (result).err.end(), '\n'), 1) << (result).err; \
    EXPECT_EQ((result).out, "");                                                              \
  } while (false)

TEST_F(TelecCliTest, HelpAtEveryLevelAndUsageErrors) {
  CommandResult r = Telec({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, StartsWith("usage: telec COMMAND ... [options]\n"));
  r = Telec({"cartridges", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, StartsWith("usage: telec cartridges SUBCOMMAND"));
  r = Telec({"notifications", "resolve", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("--resolution JSON"));
  r = Telec({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith("telec: unknown command \"frobnicate\"\nusage: telec COMMAND"));
  r = Telec({"cartridges", "show"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith("telec: missing NAME"));
}

TEST_F(TelecCliTest, StatusShowsEveryServiceUp) {
  CommandResult r = Telec({"status"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, StartsWith("computer     laptop, cluster home\n"));
  EXPECT_THAT(r.out, HasSubstr(Cat("services     egress     ", computer_->egress, "  up\n")));
  EXPECT_THAT(r.out, HasSubstr(Cat("             ingress    ", computer_->ingress, "  up\n")));
  EXPECT_THAT(r.out, HasSubstr(Cat("             installer  ", computer_->installer, "  up\n")));
  EXPECT_THAT(r.out,
              ContainsRegex(Cat("\nredis        redis://127\\.0\\.0\\.1:", computer_->redis.port(),
                                "[^,]*, connected \\(PING [0-9.]+ ms\\)\n")));
  EXPECT_THAT(r.out, ContainsRegex("\nsovereignty  L1, [0-9]+ cartridges? pending"));
  EXPECT_THAT(r.out, ContainsRegex("\npipeline     processed [0-9,]+, duplicate"));
  EXPECT_THAT(r.out, ContainsRegex("\noutbox       depth [0-9,]+, dropped"));
  EXPECT_THAT(r.out,
              ContainsRegex("\ningress      received [0-9,]+, accepted .*trust mode cluster"));

  r = Telec({"status", "--json"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, StartsWith("{\"computer_name\":\"laptop\",\"cluster\":\"home\","));
  EXPECT_THAT(r.out, HasSubstr("\"sovereignty_level\":\"L1\""));
  EXPECT_THAT(r.out, HasSubstr(Cat("{\"name\":\"installer\",\"address\":\"", computer_->installer,
                                   "\",\"up\":true,\"serving\":true,\"error\":null}")));
  EXPECT_THAT(r.out, HasSubstr(Cat("\"redis\":{\"address\":\"", computer_->redis.url())));
  EXPECT_THAT(r.out, HasSubstr("\"connected\":true,"));
  EXPECT_THAT(r.out, HasSubstr("\"errors\":[]}"));
}

TEST_F(TelecCliTest, StatusWithAServiceDownExits3) {
  std::string nowhere = Cat("127.0.0.1:", testing::FreeLoopbackPort());
  CommandResult r = Telec({"status", "--ingress_addr", nowhere});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.out, HasSubstr(Cat("ingress    ", nowhere, "  DOWN  not reachable\n")));
  EXPECT_THAT(r.out, HasSubstr("ingress      unknown (ingress is down)\n"));
  EXPECT_THAT(r.out, HasSubstr(Cat("egress     ", computer_->egress, "  up\n")));
  EXPECT_EQ(r.err,
            "telec: 1 of 3 services is down: ingress (start them with deploy/run-local.sh)\n");
}

TEST_F(TelecCliTest, UnreachableServiceIsOneLineExit3) {
  std::string nowhere = Cat("127.0.0.1:", testing::FreeLoopbackPort());
  std::string expected = Cat("telec: cannot reach egress at ", nowhere,
                             " (is telec-egress running? start it with deploy/run-local.sh)\n");
  CommandResult r = Telec({"peers"}, {{"TELEC_EGRESS_ADDR", nowhere}});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, expected);
  EXPECT_EQ(r.out, "");
  r = Telec({"notifications", "list", "--egress_addr", nowhere});  // the flag wins
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, expected);
  r = Telec({"cartridges", "list"}, {{"TELEC_INSTALLER_ADDR", nowhere}});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, Cat("telec: cannot reach installer at ", nowhere,
                       " (is telec-installer running? start it with deploy/run-local.sh)\n"));
}

TEST_F(TelecCliTest, EmitThenNotificationsListShowSeenResolve) {
  CommandResult r =
      Telec({"events", "emit", "system.worker.crashed", "--payload",
             R"({"worker_name": "w1", "timestamp": "t1"})", "--description", "worker w1 crashed"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.out, m,
      std::regex("^processed system\\.worker\\.crashed \\(operational, cluster, domain system\\); "
                 "notification ([0-9]+)\n$")))
      << r.out;
  std::string id = m[1];

  r = Telec({"notifications", "list", "--type", "system.worker."});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("ID"));
  EXPECT_THAT(r.out,
              ContainsRegex(Cat("\n", id,
                                " +just now +operational +system\\.worker\\.crashed +local +- +"
                                "unseen +worker w1 crashed\n")));
  r = Telec({"notifications", "list", "--type", "system.worker.", "--json"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, StartsWith(Cat("[{\"id\":", id, ",\"event_type\":\"system.worker.crashed\"")));
  EXPECT_THAT(r.out, HasSubstr("\"payload\":{\"worker_name\":\"w1\",\"timestamp\":\"t1\"}"));

  r = Telec({"notifications", "show", id});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("system.worker.crashed (actionable)"));
  EXPECT_THAT(r.out, HasSubstr("{\"worker_name\":\"w1\",\"timestamp\":\"t1\"}"));

  r = Telec({"notifications", "seen", id});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, Cat("marked notification ", id, " (system.worker.crashed) as seen\n"));
  r = Telec({"notifications", "list", "--type", "system.worker.", "--unseen"});
  EXPECT_EQ(r.out, "no notifications\n");

  r = Telec({"notifications", "resolve", id, "--resolution", R"({"note": "restarted"})"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, Cat("resolved notification ", id,
                       " (system.worker.crashed): {\"note\":\"restarted\"}\n"));
  r = Telec({"notifications", "show", id, "--json"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("\"human_status\":\"seen\""));
  EXPECT_THAT(r.out, HasSubstr("\"resolution\":{\"note\":\"restarted\"}"));

  // The same event again: dedup drops it (catalog idempotency fields).
  r = Telec({"events", "emit", "system.worker.crashed", "--payload",
             R"({"worker_name": "w1", "timestamp": "t1"})"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(": dropped by dedup"));
}

TEST_F(TelecCliTest, NotificationErrorPaths) {
  CommandResult r = Telec({"notifications", "show", "987654"});
  EXPECT_ONE_LINE_ERROR(r, 1, "telec: ");
  r = Telec({"notifications", "seen", "987654"});
  EXPECT_ONE_LINE_ERROR(r, 1, "telec: ");
  r = Telec({"notifications", "resolve", "987654", "--resolution", "{\"a\":}"});
  EXPECT_ONE_LINE_ERROR(r, 2, "telec: --resolution: not valid JSON: ");
  EXPECT_THAT(r.err, HasSubstr("at offset 5, near \"}\""));
  r = Telec({"notifications", "show", "x"});
  EXPECT_ONE_LINE_ERROR(r, 2, "telec: notification id \"x\" is not a positive number");
}

TEST_F(TelecCliTest, EmitBadInputExit2) {
  CommandResult r = Telec({"events", "emit", "x.y", "--payload", "{\"a\": 1,}"});
  EXPECT_ONE_LINE_ERROR(r, 2, "telec: --payload: not valid JSON: ");
  EXPECT_THAT(r.err, HasSubstr("at offset 8, near \"}\""));
  r = Telec({"events", "emit", "x.y", "--payload", "[1]"});
  EXPECT_ONE_LINE_ERROR(r, 2, "telec: --payload: expected a JSON object, got array");
  r = Telec({"events", "emit", "x.y", "--visibility", "galaxy"});
  EXPECT_ONE_LINE_ERROR(r, 2, "telec: --visibility: \"galaxy\" is not a visibility");
  r = Telec({"events", "emit", "x.y", "--level", "7"});
  EXPECT_ONE_LINE_ERROR(r, 2, "telec: --level: \"7\" is not a level");
}

TEST_F(TelecCliTest, EmitJson) {
  CommandResult r =
      Telec({"events", "emit", "telec.test.json", "--level", "business", "--visibility", "local",
             "--domain", "tests", "--entity", "e1", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("{\"status\":\"processed\",\"dropped_by\":\"\",\"error\":\"\","));
  EXPECT_THAT(r.out, HasSubstr("\"event\":\"telec.test.json\""));
  EXPECT_THAT(r.out, HasSubstr("\"level\":3,\"domain\":\"tests\",\"entity\":\"e1\""));
  EXPECT_THAT(r.out, HasSubstr("\"source\":\"laptop\""));
}

TEST_F(TelecCliTest, PublishListShowActivate) {
  std::string source = "-- says hello\nfunction process(event) return event end\n";
  std::string file = File("hello.lua", source);
  CommandResult r = Telec({"cartridges", "publish", file, "--name", "hello", "--version", "1.0.0",
                           "--description", "says hello"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Signed with this computer's identity key (the installer signs it).
  EXPECT_THAT(r.out, StartsWith(Cat("published cartridge hello 1.0.0 by laptop (", source.size(),
                                    " bytes, cartridge.published, public, signed with key ")));
  // The local installer gates it too (L1: pending until a human decides).
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return Telec({"cartridges", "list", "--json"})
                   .out.find("{\"name\":\"hello\",\"status\":\"pending\"") != std::string::npos;
      },
      absl::Seconds(10)));
  r = Telec({"cartridges", "list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("NAME"));
  EXPECT_THAT(r.out,
              ContainsRegex("\ndedup +system +- +- +[0-9,]+ +(never|just now|[0-9]+ s ago)\n"));
  EXPECT_THAT(r.out, ContainsRegex("\nhello +pending +1\\.0\\.0 +laptop +0 +never\n"));

  r = Telec({"cartridges", "show", "hello"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("(^|\n)status: +pending\n"));
  EXPECT_THAT(r.out, ContainsRegex("\ndescription: +says hello\n"));
  // Its own cartridge verifies against this computer's key: not UNVERIFIED.
  EXPECT_THAT(r.out,
              ContainsRegex("\nsignature: +verified: signed by author \"laptop\" with key "));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("UNVERIFIED")));
  EXPECT_THAT(r.out, HasSubstr("\nsource:\n" + source));
  r = Telec({"cartridges", "show", "hello", "--json"});
  EXPECT_THAT(r.out, HasSubstr("\"source\":\"-- says hello\\nfunction process(event) return "
                               "event end\\n\""));

  r = Telec({"cartridges", "activate", "hello"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "activated cartridge hello 1.0.0 by laptop\n");
  r = Telec({"cartridges", "activate", "hello"});  // not pending any more
  EXPECT_ONE_LINE_ERROR(r, 1, "telec: ");
  EXPECT_THAT(r.err, HasSubstr("hello"));
  r = Telec({"cartridges", "list", "--json"});
  EXPECT_THAT(r.out, HasSubstr("{\"name\":\"hello\",\"status\":\"active\""));

  // The same version again is a duplicate the pipeline drops.
  r = Telec({"cartridges", "publish", file, "--name", "hello", "--version", "1.0.0"});
  EXPECT_ONE_LINE_ERROR(r, 1,
                        "telec: not published: cartridge hello 1.0.0 by laptop was "
                        "already published");
}

TEST_F(TelecCliTest, RejectAndUnknownCartridges) {
  std::string file = File("bye.lua", "function process(event) return nil end\n");
  CommandResult r =
      Telec({"cartridges", "publish", file, "--name", "bye", "--version", "0.1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("{\"status\":\"processed\""));
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return Telec({"cartridges", "list", "--json"})
                   .out.find("{\"name\":\"bye\",\"status\":\"pending\"") != std::string::npos;
      },
      absl::Seconds(10)));
  r = Telec({"cartridges", "reject", "bye", "--reason", "not needed"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "rejected cartridge bye 0.1 by laptop\n");
  r = Telec({"cartridges", "show", "bye", "--json"});
  EXPECT_THAT(r.out, HasSubstr("\"status\":\"rejected\""));
  EXPECT_THAT(r.out, HasSubstr("\"reason\":\"not needed\""));

  r = Telec({"cartridges", "activate", "no-such-cartridge"});
  EXPECT_ONE_LINE_ERROR(r, 1, "telec: ");
  EXPECT_THAT(r.err, HasSubstr("no-such-cartridge"));
  r = Telec({"cartridges", "reject", "no-such-cartridge"});
  EXPECT_ONE_LINE_ERROR(r, 1, "telec: ");
  r = Telec({"cartridges", "show", "no-such-cartridge"});
  EXPECT_ONE_LINE_ERROR(r, 1, "telec: ");
  r = Telec({"cartridges", "publish", file, "--name", "Bad_Name", "--version", "1"});
  EXPECT_ONE_LINE_ERROR(r, 2, "telec: --name: \"Bad_Name\" is not a valid cartridge name");
  r = Telec({"cartridges", "publish", computer_->dir.File("missing.lua"), "--name", "m",
             "--version", "1"});
  EXPECT_ONE_LINE_ERROR(r, 2, "telec: cannot read ");
}

// Waits until `telec cartridges list --json` shows cartridge `name` with
// `status`.
#define WAIT_FOR_CARTRIDGE(name, status)                                                     \
  ASSERT_TRUE(testing::WaitFor(                                                              \
      [&] {                                                                                  \
        return Telec({"cartridges", "list", "--json"})                                       \
                   .out.find(Cat("{\"name\":\"", name, "\",\"status\":\"", status, "\"")) != \
               std::string::npos;                                                            \
      },                                                                                     \
      absl::Seconds(10)))                                                                    \
      << Telec({"cartridges", "list"}).out

// Issue 17: an active cartridge can be turned off and on again and removed,
// and egress follows each step (the cartridge drops marked events while it
// runs).
TEST_F(TelecCliTest, DeactivateActivateAndRemoveACartridge) {
  std::string file = File("lamp.lua",
                          "function process(e) if e.payload.lamp_test then return nil end "
                          "return e end\n");
  CommandResult r = Telec({"cartridges", "publish", file, "--name", "lamp", "--version", "1.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  WAIT_FOR_CARTRIDGE("lamp", "pending");
  r = Telec({"cartridges", "deactivate", "lamp"});  // not active yet
  EXPECT_ONE_LINE_ERROR(r, 1, "telec: cartridge lamp is pending");
  r = Telec({"cartridges", "activate", "lamp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> marked = {"events", "emit", "ops.lamp.test", "--payload",
                                           R"({"lamp_test": true})"};
  r = Telec(marked);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(": dropped by lamp"));

  r = Telec({"cartridges", "deactivate", "lamp", "--reason", "too dark"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "deactivated cartridge lamp 1.0 by laptop (inactive; 'telec cartridges activate "
            "lamp' turns it on again)\n");
  r = Telec({"cartridges", "show", "lamp", "--json"});
  EXPECT_THAT(r.out, HasSubstr("\"status\":\"inactive\""));
  EXPECT_THAT(r.out, HasSubstr("\"reason\":\"too dark\""));
  r = Telec(marked);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("processed ops.lamp.test"));
  r = Telec({"cartridges", "deactivate", "lamp"});
  EXPECT_ONE_LINE_ERROR(r, 1, "telec: cartridge lamp is inactive");
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return Telec({"notifications", "list", "--type", "cartridge.deactivated"})
                   .out.find("cartridge:lamp") != std::string::npos;
      },
      absl::Seconds(10)));

  r = Telec({"cartridges", "activate", "lamp"});  // on again
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Telec(marked);
  EXPECT_THAT(r.out, HasSubstr(": dropped by lamp"));

  r = Telec({"cartridges", "remove", "lamp"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "removed cartridge lamp: 1.0 (active)\n");
  r = Telec(marked);
  EXPECT_THAT(r.out, StartsWith("processed ops.lamp.test"));
  r = Telec({"cartridges", "show", "lamp"});
  EXPECT_ONE_LINE_ERROR(r, 1, "telec: no cartridge named \"lamp\"");
  r = Telec({"cartridges", "remove", "lamp"});
  EXPECT_ONE_LINE_ERROR(r, 1, "telec: no cartridge named \"lamp\"");
  r = Telec({"cartridges", "remove", "dedup"});
  EXPECT_ONE_LINE_ERROR(r, 1, "telec: dedup is a system cartridge");
}

// Issue 17 "every failure is a failure": a cartridge egress cannot load is a
// failed activation with the compile error.
TEST_F(TelecCliTest, ActivatingACartridgeThatDoesNotCompileFails) {
  std::string file = File("broken.lua", "function process(e\n");
  CommandResult r = Telec({"cartridges", "publish", file, "--name", "broken", "--version", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  WAIT_FOR_CARTRIDGE("broken", "pending");
  r = Telec({"cartridges", "activate", "broken"});
  EXPECT_ONE_LINE_ERROR(r, 1, "telec: cartridge broken 1 cannot run: ");
  EXPECT_THAT(r.err, HasSubstr("it is now failed"));
  WAIT_FOR_CARTRIDGE("broken", "failed");
}

// Resolving an install_pending notification with anything but approve or
// reject is refused (it changed nothing before), and so is resolving a
// resolved notification again, unless --force.
TEST_F(TelecCliTest, ResolveRefusesMeaninglessAndRepeatedResolutions) {
  std::string file = File("maybe.lua", "function process(e) return e end\n");
  CommandResult r = Telec({"cartridges", "publish", file, "--name", "maybe", "--version", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  std::string list;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        list = Telec({"notifications", "list", "--type", "cartridge.install_pending"}).out;
        return std::regex_search(
            list, m,
            std::regex("(^|\n)([0-9]+) [^\n]*cartridge\\.install_pending +local +"
                       "cartridge:maybe "));
      },
      absl::Seconds(10)))
      << list;
  const std::string id = m[2];
  r = Telec({"notifications", "resolve", id, "--resolution", R"({"decision":"maybe"})"});
  EXPECT_ONE_LINE_ERROR(r, 1, "telec: resolution: \"maybe\" is not a decision");
  r = Telec({"cartridges", "show", "maybe", "--json"});
  EXPECT_THAT(r.out, HasSubstr("\"status\":\"pending\""));

  std::string approve = File("approve.json", R"({"decision":"approve"})");
  r = Telec({"notifications", "resolve", id, "--resolution", Cat("@", approve)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  WAIT_FOR_CARTRIDGE("maybe", "active");
  r = Telec({"notifications", "resolve", id, "--resolution", R"({"decision":"reject"})"});
  EXPECT_ONE_LINE_ERROR(r, 1, Cat("telec: notification ", id));
  EXPECT_THAT(r.err, HasSubstr("was resolved already"));
  EXPECT_THAT(r.err, HasSubstr("--force"));

  r = Telec({"events", "emit", "system.worker.crashed", "--payload", "-"}, {});
  // stdin is empty here: not a JSON object.
  EXPECT_ONE_LINE_ERROR(r, 2, "telec: --payload: ");
  std::string payload = File("crash.json", R"({"worker_name": "w-force", "timestamp": "t9"})");
  r = Telec({"events", "emit", "system.worker.crashed", "--payload", Cat("@", payload)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("notification ([0-9]+)\n$"))) << r.out;
  const std::string crash = m[1];
  r = Telec({"notifications", "resolve", crash, "--resolution", R"({"note":"first"})"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Telec({"notifications", "resolve", crash, "--resolution", R"({"note":"second"})"});
  EXPECT_ONE_LINE_ERROR(r, 1, Cat("telec: notification ", crash));
  r = Telec({"notifications", "resolve", crash, "--resolution", R"({"note":"second"})", "--force"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Telec({"notifications", "show", crash, "--json"});
  EXPECT_THAT(r.out, HasSubstr("\"resolution\":{\"note\":\"second\"}"));
  r = Telec({"events", "emit", "x.y", "--payload", "@/nonexistent/payload.json"});
  EXPECT_ONE_LINE_ERROR(r, 2, "telec: --payload: cannot read /nonexistent/payload.json: ");
}

// Global switches may come before the command words; `events types` lists
// the catalog with what each type does to notifications.
TEST_F(TelecCliTest, JsonBeforeTheCommandAndEventTypes) {
  CommandResult r = Telec({"--json", "notifications", "list", "--type", "system.worker."});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("["));
  r = Telec({"--json", "events", "types", "system.worker."});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("{\"event_type\":\"system.worker.crashed\""));
  EXPECT_THAT(r.out, HasSubstr("\"creates_notification\":true"));
  r = Telec({"events", "types", "*.deactivated"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("TYPE"));
  EXPECT_THAT(r.out, ContainsRegex("\ncartridge\\.deactivated +operational +local +creates +no "));
  r = Telec({"events", "types", "no.such.type."});
  EXPECT_ONE_LINE_ERROR(r, 1, "telec: no event type matches \"no.such.type.\"");
  r = Telec({"--json", "health"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"serving\":true"));
}

// telec peers lists what membership.db remembers (doc/membership.md): a
// cluster peer, a Python peer without a cluster, a Python name with a space
// (issue 15: shown quoted, never dropped); `telec peers forget NAME` makes
// it forgotten at once.
TEST_F(TelecCliTest, PeersFromHeartbeatsAndForget) {
  std::unique_ptr<RedisClient> redis = computer_->redis.Client();
  std::string now = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  auto beat = [&](const std::string& name, const std::string& cluster_member) {
    return redis->SetEx(
        Cat("computer:", name, ":heartbeat"),
        Cat("{\"computer_name\":\"", name, "\",\"last_seen\":\"", now, "\"", cluster_member, "}"),
        absl::Seconds(60));
  };
  // desk is a C++ computer: its heartbeat is signed (only a signed heartbeat
  // with a pinned key makes a cluster peer, doc/security.md §6); the Python
  // peers' heartbeats are not.
  std::unique_ptr<IdentityKey> desk_key = IdentityKey::Generate();
  ASSERT_TRUE(redis
                  ->SetEx("computer:desk:heartbeat",
                          EncodeSignedHeartbeat({"desk", now, "home"}, *desk_key),
                          absl::Seconds(60))
                  .ok());
  const std::string desk_fingerprint = desk_key->fingerprint().ToString();
  ASSERT_TRUE(beat("pyhost", "").ok());
  ASSERT_TRUE(beat("py C", "").ok());
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        std::string out = Telec({"peers"}).out;
        return out.find(desk_fingerprint) != std::string::npos &&
               out.find("pyhost") != std::string::npos && out.find("py C") != std::string::npos;
      },
      absl::Seconds(10)));
  CommandResult r = Telec({"peers"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("this computer: laptop, cluster home; away peers stay "
                                "destinations for 24h\nPEER "));
  EXPECT_THAT(r.out, ContainsRegex(Cat("\ndesk +live +home \\(ours\\) +(just now|[0-9]+ s ago) +",
                                       desk_fingerprint, " \\(first_use, verified\\) +[0-9]+\n")));
  EXPECT_THAT(r.out, ContainsRegex("\npyhost +live +- +(just now|[0-9]+ s ago) +- +[0-9]+\n"));
  EXPECT_THAT(r.out, ContainsRegex("\n\"py C\" +live +- +(just now|[0-9]+ s ago) +- +[0-9]+\n"));
  r = Telec({"peers", "--json"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, StartsWith("{\"computer_name\":\"laptop\",\"cluster\":\"home\","
                                "\"peer_retention_s\":86400,\"peers\":["));
  EXPECT_THAT(r.out, HasSubstr("{\"name\":\"desk\",\"cluster\":\"home\",\"state\":\"live\","));
  EXPECT_THAT(r.out, HasSubstr("{\"name\":\"py C\",\"cluster\":null,\"state\":\"live\","));
  EXPECT_THAT(r.out, HasSubstr(Cat("\"destination\":true,\"cluster_peer\":true,\"fingerprint\":\"",
                                   desk_fingerprint, "\",\"key_source\":\"first_use\",")));
  EXPECT_THAT(r.out, HasSubstr("\"destination\":true,\"cluster_peer\":false,\"fingerprint\":null"));

  r = Telec({"peers", "forget", "py C"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "forgot \"py C\" (it was live: its next heartbeat brings it back as a new "
            "computer)\n");
  // At once: the writer publishes and egress re-reads within its refresh.
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        return Telec({"peers", "--json"})
                   .out.find("{\"name\":\"py C\",\"cluster\":null,\"state\":\"forgotten\",") !=
               std::string::npos;
      },
      absl::Seconds(5)));
  r = Telec({"peers", "forget", "py C", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"forgotten\":\"py C\",\"previous_state\":\"forgotten\"}\n");
  r = Telec({"peers", "forget", "nobody"});
  EXPECT_ONE_LINE_ERROR(r, 1, "telec: ");
  EXPECT_THAT(r.err, HasSubstr("no computer named nobody is known"));
  r = Telec({"peers", "forget"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

// Under --trust_strictness=strict, an event from a trusted peer (qdesk, of
// cluster home) whose envelope names a source no one knows is quarantined;
// `telec ingress quarantined` lists it. A second ingress ("strictbox", same
// Redis and cluster) runs strict; telec talks to it with its address and
// data dir (owner token).
TEST_F(TelecCliTest, IngressQuarantinedListsWhatTheTrustGateHeldBack) {
  const std::string strict_dir = computer_->dir.File("strictbox");
  const std::string strict_ingress = Cat("127.0.0.1:", testing::FreeLoopbackPort());
  ChildOptions options;
  options.args = {kIngress,
                  "--computer_name=strictbox",
                  "--cluster=home",
                  "--trust_strictness=strict",
                  Cat("--redis_url=", computer_->redis.url()),
                  Cat("--data_dir=", strict_dir),
                  Cat("--egress_addr=127.0.0.1:", testing::FreeLoopbackPort()),
                  Cat("--ingress_addr=", strict_ingress),
                  Cat("--installer_addr=127.0.0.1:", testing::FreeLoopbackPort()),
                  "--peer_refresh_ms=100"};
  options.log_path = computer_->dir.File("strictbox-ingress.log");
  auto strictbox = ChildProcess::Start(options);
  ASSERT_TRUE(strictbox.ok()) << strictbox.status();
  const std::vector<std::pair<std::string, std::string>> env = {
      {"TELEC_INGRESS_ADDR", strict_ingress}, {"TELEC_DATA_DIR", strict_dir}};
  auto quarantined = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"ingress", "quarantined"});
    return Telec(args, env);
  };
  ASSERT_TRUE(testing::WaitFor([&] { return quarantined({}).exit_code == 0; }, absl::Seconds(20)))
      << (*strictbox)->ReadLog();
  CommandResult r = quarantined({});
  EXPECT_EQ(r.out, "no quarantined events\n");

  std::unique_ptr<RedisClient> redis = computer_->redis.Client();
  std::string now = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  // qdesk is a C++ computer: its heartbeat is signed, its messages
  // authenticated with the pair key of its key and strictbox's (which
  // strictbox's ingress created in its data dir).
  const std::string qdesk_dir = computer_->dir.File("qdesk");
  ASSERT_TRUE(std::filesystem::create_directory(qdesk_dir)) << qdesk_dir;
  absl::StatusOr<std::unique_ptr<IdentityKey>> qdesk_key =
      IdentityKey::LoadOrCreate(IdentityKey::PathIn(qdesk_dir));
  ASSERT_TRUE(qdesk_key.ok()) << qdesk_key.status();
  ASSERT_TRUE(redis
                  ->SetEx("computer:qdesk:heartbeat",
                          EncodeSignedHeartbeat({"qdesk", now, "home"}, **qdesk_key),
                          absl::Seconds(60))
                  .ok());
  absl::StatusOr<PairKeys> qdesk_to_strictbox =
      testing::PairKeysBetween(qdesk_dir, "qdesk", strict_dir, "strictbox");
  ASSERT_TRUE(qdesk_to_strictbox.ok()) << qdesk_to_strictbox.status();
  int sent = 0;
  const std::string envelope =
      R"({"event":"demo.quarantine","source":"stranger","level":1,"domain":"demo",)"
      R"("payload":{"q":1}})";
  // Sent until strictbox's membership knows qdesk (before that, qdesk's
  // events are rejected as unauthenticated, not quarantined).
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        if (!redis
                 ->Pipeline({RedisClient::XAddArgv(
                     MeshStreamKey("strictbox"),
                     EncodeAuthenticatedMeshMessage(
                         qdesk_to_strictbox->send, MeshStreamKey("strictbox"), envelope, "qdesk",
                         Cat("qdesk/", ++sent), absl::ToUnixMillis(absl::Now())),
                     10000)})
                 .ok()) {
          return false;
        }
        return testing::WaitFor(
            [&] {
              r = quarantined({});
              return r.out.find("demo.quarantine") != std::string::npos;
            },
            absl::Seconds(2), absl::Milliseconds(100));
      },
      absl::Seconds(20)))
      << r.out << r.err << (*strictbox)->ReadLog();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("^ID +RECEIVED +TYPE +SOURCE +FLAGS +REVIEWED\n"));
  EXPECT_THAT(r.out, ContainsRegex("\n[0-9]+ +(just now|[0-9]+ s ago) +demo.quarantine +stranger +"
                                   "unknown_source +no\n"));
  r = Telec({"--json", "ingress", "quarantined", "--limit", "1"}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith(R"([{"id":)"));
  EXPECT_THAT(r.out, HasSubstr(R"("event_type":"demo.quarantine","source":"stranger",)"));
  EXPECT_THAT(r.out, HasSubstr(R"("trust_flags":["unknown_source"],"reviewed":false,)"
                               R"("envelope":{"event":"demo.quarantine",)"));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  // Past the end: nothing, said in words.
  r = quarantined({"--offset", "1000"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "no quarantined events\n");
  r = quarantined({"--limit", "-1"});
  EXPECT_ONE_LINE_ERROR(r, 2, "telec: --limit");
  r = quarantined({"--ingress_addr=127.0.0.1:1"});
  EXPECT_ONE_LINE_ERROR(r, 3, "telec: cannot reach ingress at 127.0.0.1:1");
}

// `telec completion bash`, sourced in bash, completes command words, a
// command's options and argument choices, after configuration flags and
// option values (split at '=' and ':' as bash splits them).
TEST_F(TelecCliTest, BashCompletionFollowsTheCommandTable) {
  CommandResult r = Telec({"completion", "bash"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string script = File("telec-completion.bash", r.out);
  // COMP_WORDS as bash would set them (`words`: a bash array body), the
  // cursor in the last word.
  auto complete = [&](const std::string& words) {
    absl::StatusOr<CommandResult> c = testing::RunCommand(
        {"bash", "-c",
         Cat("source ", script, " && complete -p telec >/dev/null && COMP_WORDS=(", words,
             ") && COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && _telec; echo \"${COMPREPLY[*]}\"")});
    CHECK(c.ok()) << c.status();
    EXPECT_EQ(c->err, "") << words;
    return c->out;
  };
  EXPECT_EQ(complete("telec c"), "cartridges completion\n");
  EXPECT_EQ(complete("telec cartridges de"), "deactivate\n");
  EXPECT_EQ(complete("telec peers f"), "forget\n");
  EXPECT_EQ(complete("telec ingress ''"), "quarantined\n");
  EXPECT_EQ(complete("telec --egress_addr = 127.0.0.1 : 1 notifications re"), "resolve\n");
  EXPECT_EQ(complete("telec --json events emit x --payload '{\"a\": 1}' --vis"), "--visibility\n");
  EXPECT_EQ(complete("telec health egress in"), "ingress installer\n");
  EXPECT_EQ(complete("telec completion ''"), "bash --help\n");
  EXPECT_EQ(complete("telec ingress quarantined --l"), "--limit\n");
  // An option's value is not completed with words.
  EXPECT_EQ(complete("telec events emit x --level ''"), "\n");

  r = Telec({"completion", "zsh"});
  EXPECT_ONE_LINE_ERROR(r, 2, "telec: completion: \"zsh\" is not a shell telec completes");
}

TEST_F(TelecCliTest, TailFollowsEventsUntilCtrlC) {
  for (bool json : {true, false}) {
    ChildOptions options;
    options.args = {kTelec, "events", "tail", "--type", "tail.test"};
    if (json) options.args.push_back("--json");
    options.env = computer_->Env();
    options.log_path = computer_->dir.File(json ? "tail-json.log" : "tail-text.log");
    absl::StatusOr<std::unique_ptr<ChildProcess>> tail = ChildProcess::Start(options);
    ASSERT_TRUE(tail.ok()) << tail.status();
    // The watch starts asynchronously: emit until the tail shows one.
    ASSERT_TRUE(testing::WaitFor(
        [&] {
          Telec({"events", "emit", "tail.test.ping", "--level", "1", "--payload", "{\"n\":1}"});
          Telec({"events", "emit", "other.type", "--level", "1"});
          return (*tail)->ReadLog().find("tail.test.ping") != std::string::npos;
        },
        absl::Seconds(10), absl::Milliseconds(100)));
    std::string log = (*tail)->ReadLog();
    EXPECT_EQ(log.find("other.type"), std::string::npos) << log;
    if (json) {
      EXPECT_THAT(log, StartsWith("{\"processed_at\":\""));
      EXPECT_THAT(log, HasSubstr("\"status\":\"processed\""));
      EXPECT_THAT(log, HasSubstr("\"event\":\"tail.test.ping\""));
      EXPECT_THAT(log, HasSubstr("\"payload\":{\"n\":1}"));
    } else {
      EXPECT_THAT(log, ContainsRegex("^TIME +TYPE +LEVEL +VISIBILITY +SOURCE +ORIGIN +PAYLOAD\n"
                                     "[0-9][0-9]:[0-9][0-9]:[0-9][0-9]  tail\\.test\\.ping +"
                                     "operational +local +laptop +local +\\{\"n\":1\\}\n"));
    }
    ASSERT_EQ(kill((*tail)->pid(), SIGINT), 0);  // Ctrl-C
    absl::StatusOr<testing::ExitInfo> exit = (*tail)->Wait(absl::Seconds(10));
    ASSERT_TRUE(exit.ok()) << exit.status();
    EXPECT_TRUE(exit->exited());
    EXPECT_EQ(exit->exit_code, 0) << (*tail)->ReadLog();
    EXPECT_EQ((*tail)->ReadLog().find("telec:"), std::string::npos) << (*tail)->ReadLog();
  }
  // --last N starts with the last N matching events egress keeps.
  ChildOptions options;
  options.args = {kTelec, "events", "tail", "--type", "tail.test", "--last", "1", "--json"};
  options.env = computer_->Env();
  options.log_path = computer_->dir.File("tail-last.log");
  absl::StatusOr<std::unique_ptr<ChildProcess>> tail = ChildProcess::Start(options);
  ASSERT_TRUE(tail.ok()) << tail.status();
  ASSERT_TRUE(testing::WaitFor(
      [&] { return (*tail)->ReadLog().find("tail.test.ping") != std::string::npos; },
      absl::Seconds(10)))
      << (*tail)->ReadLog();
  ASSERT_EQ(kill((*tail)->pid(), SIGINT), 0);
  ASSERT_TRUE((*tail)->Wait(absl::Seconds(10)).ok());
  std::string log = (*tail)->ReadLog();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
}

}  // namespace
}  // namespace teleclaude::mesh
