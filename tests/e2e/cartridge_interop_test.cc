// Cartridges as Python TeleClaude computers publish them (issue 15,
// doc/cartridges.md), against one real computer (installer, egress, ingress at
// L3) on a real redis-server, driven through `telec`: identity by author +
// name + version, and the plan's cartridge.published (no runtime,
// entry_point module:function) installed as {name}.py and run through a
// sandbox runner process.
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_computer.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/sandbox_runner_command.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh::e2e {
namespace {

using ::teleclaude::mesh::testing::WaitFor;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

class CartridgeInteropTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    redis_ = new testing::RedisServer();
    ComputerOptions o;
    o.name = "lab";
    o.install_level = "L3";
    o.redis_url = redis_->url();
    // The sandbox runner's socket: nothing listens there until a test
    // starts the runner.
    socket_ = files_.File("runner.sock");
    o.service_flags["egress"] = {absl::StrCat("--python_runner_socket=", socket_)};
    computer_ = new Computer(std::move(o));
    absl::Status s = computer_->Launch();
    if (s.ok()) s = computer_->AwaitReady(absl::Seconds(60));
    ASSERT_TRUE(s.ok()) << s << "\n" << computer_->LogTails();
  }
  static void TearDownTestSuite() {
    delete computer_;
    delete redis_;
  }

  // The status of cartridge `name` in `telec cartridges list --json` ("" when
  // absent).
  static std::string StatusOf(const std::string& name) {
    absl::StatusOr<Json> list = computer_->TelecJson({"cartridges", "list"});
    if (!list.ok() || !(*list)->IsArray()) return "";
    for (const rapidjson::Value& row : (*list)->GetArray()) {
      if (Str(row, "name") == name) return Str(row, "status");
    }
    return "";
  }

  static absl::StatusOr<testing::CommandResult> Publish(const std::string& name,
                                                        const std::string& version) {
    const std::string path = files_.File(absl::StrCat(name, ".lua"));
    std::ofstream(path) << "function process(event) return event end\n";
    return computer_->Telec({"cartridges", "publish", path, "--name", name, "--version", version});
  }

  static testing::RedisServer* redis_;
  static Computer* computer_;
  static testing::TempDir files_;
  static std::string socket_;
};

testing::RedisServer* CartridgeInteropTest::redis_ = nullptr;
Computer* CartridgeInteropTest::computer_ = nullptr;
testing::TempDir CartridgeInteropTest::files_;
std::string CartridgeInteropTest::socket_;

TEST_F(CartridgeInteropTest, TwoCartridgesWithDifferentNamesAtOneVersionBothPublish) {
  for (const char* name : {"tagger", "stamper"}) {
    absl::StatusOr<testing::CommandResult> r = Publish(name, "1.0.0");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->exit_code, 0) << name << ": " << r->err;
    EXPECT_THAT(r->out, HasSubstr(absl::StrCat("published cartridge ", name, " 1.0.0 by lab")));
  }
  EXPECT_TRUE(
      WaitFor([] { return StatusOf("tagger") == "active" && StatusOf("stamper") == "active"; },
              absl::Seconds(20)))
      << computer_->LogTails();
  // The same name and version again is still a duplicate.
  absl::StatusOr<testing::CommandResult> again = Publish("tagger", "1.0.0");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->exit_code, 1);
  EXPECT_THAT(again->err, HasSubstr("cartridge tagger 1.0.0 by lab was already published"));
}

// The plan's cartridge.published installed at L3 runs in egress's pipeline
// through a sandbox runner process (tests/python/sandbox_runner.py, faithful
// to TeleClaude's runner.py). Before the runner is up the cartridge is
// active but "not running" with the reason (telec cartridges list / show /
// status) and events flow on without it; once the runner answers, it
// changes the events.
TEST_F(CartridgeInteropTest, PlanShapedPythonCartridgeRunsThroughTheSandboxRunner) {
  absl::StatusOr<std::unique_ptr<testing::ChildProcess>> tail =
      computer_->StartTelec({"events", "tail", "--type", "pytest."});
  ASSERT_TRUE(tail.ok()) << tail.status();
  const std::string source =
      "async def process(event, context):\n"
      "    if event.event.startswith('pytest.'):\n"
      "        event.payload['tagged'] = True\n"
      "    return event\n";
  const std::string payload = absl::StrCat(
      R"({"name":"pytagger","event_type":"*","version":"1.0.0","author":"py-a",)", R"("code":")",
      absl::Base64Escape(source), R"(","entry_point":"pytagger:process","dependencies":[],)",
      R"("description":"tags every event"})");
  absl::StatusOr<testing::CommandResult> r = computer_->Telec(
      {"events", "emit", "cartridge.published", "--payload", payload, "--visibility", "local"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << r->err;

  // Unsigned (a Python computer signs nothing): pending even at L3, UNVERIFIED
  // (doc/security.md §7); a person activates it. No runner answers yet: it is
  // active but not running, and says why.
  ASSERT_TRUE(WaitFor([] { return StatusOf("pytagger") == "pending"; }, absl::Seconds(20)))
      << StatusOf("pytagger") << "\n"
      << computer_->LogTails();
  absl::StatusOr<testing::CommandResult> listed = computer_->Telec({"cartridges", "list"});
  ASSERT_TRUE(listed.ok());
  EXPECT_THAT(listed->out, HasSubstr("pending UNVERIFIED"));
  absl::StatusOr<testing::CommandResult> activated =
      computer_->Telec({"cartridges", "activate", "pytagger"});
  ASSERT_TRUE(activated.ok());
  EXPECT_EQ(activated->exit_code, 0) << activated->out << activated->err;
  ASSERT_TRUE(WaitFor([] { return StatusOf("pytagger") == "active"; }, absl::Seconds(20)))
      << StatusOf("pytagger") << "\n"
      << computer_->LogTails();
  auto list_says = [](const std::string& text) {
    absl::StatusOr<testing::CommandResult> list = computer_->Telec({"cartridges", "list"});
    return list.ok() && list->out.find(text) != std::string::npos;
  };
  ASSERT_TRUE(WaitFor([&] { return list_says("pytagger not running: python runner unavailable"); },
                      absl::Seconds(20)))
      << computer_->Telec({"cartridges", "list"})->out;
  EXPECT_TRUE(list_says("active (not running)"));
  absl::StatusOr<testing::CommandResult> show =
      computer_->Telec({"cartridges", "show", "pytagger"});
  ASSERT_TRUE(show.ok());
  EXPECT_THAT(show->out, HasSubstr("not running:"));
  EXPECT_THAT(show->out, HasSubstr(absl::StrCat("connect ", socket_)));
  // Where TeleClaude's sandbox runner reads it.
  std::ifstream in(absl::StrCat(computer_->data_dir(), "/cartridges/pytagger.py"));
  std::stringstream written;
  written << in.rdbuf();
  EXPECT_EQ(written.str(), source);

  // Events keep flowing, untouched by the cartridge; status says so.
  r = computer_->Telec(
      {"events", "emit", "pytest.before", "--payload", R"({"n":1})", "--visibility", "local"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  ASSERT_TRUE(WaitFor([&] { return (*tail)->ReadLog().find("pytest.before") != std::string::npos; },
                      absl::Seconds(20)))
      << (*tail)->ReadLog();
  EXPECT_EQ((*tail)->ReadLog().find("tagged"), std::string::npos) << (*tail)->ReadLog();
  absl::StatusOr<testing::CommandResult> status = computer_->Telec({"status"});
  ASSERT_TRUE(status.ok());
  // Every event since activation was skipped (the emit above, and whatever
  // the activation itself produced).
  EXPECT_THAT(status->out, ContainsRegex("pytagger not running \\([1-9][0-9]* events skipped\\): "
                                         "python runner unavailable"));

  // The runner comes up: the cartridge runs and changes the events.
  testing::ChildOptions o;
  o.args = testing::SandboxRunnerCommand(TM_SANDBOX_RUNNER_PY);
  o.env = {{"SANDBOX_SOCKET_PATH", socket_},
           {"SANDBOX_CARTRIDGES_DIR", absl::StrCat(computer_->data_dir(), "/cartridges")}};
  absl::StatusOr<std::unique_ptr<testing::ChildProcess>> runner =
      testing::ChildProcess::Start(std::move(o));
  ASSERT_TRUE(runner.ok()) << runner.status();
  ASSERT_TRUE(WaitFor([&] { return !list_says("not running"); }, absl::Seconds(30)))
      << (*runner)->ReadLog() << computer_->LogTails();
  r = computer_->Telec(
      {"events", "emit", "pytest.after", "--payload", R"({"n":2})", "--visibility", "local"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  ASSERT_TRUE(WaitFor([&] { return (*tail)->ReadLog().find("pytest.after") != std::string::npos; },
                      absl::Seconds(20)))
      << (*tail)->ReadLog();
  std::string log = (*tail)->ReadLog();
  std::string after = log.substr(log.find("pytest.after"));
  EXPECT_THAT(after.substr(0, after.find('\n')), HasSubstr("\"tagged\":true"))
      << log << (*runner)->ReadLog();
}

TEST_F(CartridgeInteropTest, PayloadWithoutRuntimeThatIsNotPythonIsRefusedNamingTheField) {
  const std::string payload = absl::StrCat(
      R"({"name":"luaish","version":"1.0.0","author":"py-a","code":")",
      absl::Base64Escape("function process(e) return e end\n"), R"(","entry_point":"process"})");
  absl::StatusOr<testing::CommandResult> r = computer_->Telec(
      {"events", "emit", "cartridge.published", "--payload", payload, "--visibility", "local"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << r->err;
  // Refused by the installer: never listed; its log names the field.
  EXPECT_TRUE(WaitFor(
      [] { return computer_->LogTails(200).find("runtime: field required") != std::string::npos; },
      absl::Seconds(20)))
      << computer_->LogTails();
  EXPECT_EQ(StatusOf("luaish"), "");
}

}  // namespace
}  // namespace teleclaude::mesh::e2e
