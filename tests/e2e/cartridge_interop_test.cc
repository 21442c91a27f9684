// Cartridges as Python TeleClaude computers publish them (issue 15,
// doc/cartridges.md), against one real computer (installer, egress, ingress at
// L3) on a real redis-server, driven through `telec`: identity by author +
// name + version, and the plan's cartridge.published (no runtime,
// entry_point module:function) installed as {name}.py and reported as a
// runtime this computer cannot run yet.
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_computer.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh::e2e {
namespace {

using ::teleclaude::mesh::testing::WaitFor;
using ::testing::HasSubstr;

class CartridgeInteropTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    redis_ = new testing::RedisServer();
    ComputerOptions o;
    o.name = "lab";
    o.install_level = "L3";
    o.redis_url = redis_->url();
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
};

testing::RedisServer* CartridgeInteropTest::redis_ = nullptr;
Computer* CartridgeInteropTest::computer_ = nullptr;
testing::TempDir CartridgeInteropTest::files_;

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

TEST_F(CartridgeInteropTest, PlanShapedPythonCartridgeIsInstalledAsPyAndReportedUnavailable) {
  const std::string source =
      "async def process(event, context):\n    event.payload['tagged'] = True\n    return event\n";
  const std::string payload = absl::StrCat(
      R"({"name":"pytagger","event_type":"*","version":"1.0.0","author":"py-a",)", R"("code":")",
      absl::Base64Escape(source), R"(","entry_point":"pytagger:process","dependencies":[],)",
      R"("description":"tags every event"})");
  absl::StatusOr<testing::CommandResult> r = computer_->Telec(
      {"events", "emit", "cartridge.published", "--payload", payload, "--visibility", "local"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << r->err;

  // Unsigned (a Python computer signs nothing): pending even at L3, UNVERIFIED
  // (doc/security.md §7); a person activates it, then egress cannot load it:
  // failed, with the reason.
  ASSERT_TRUE(WaitFor([] { return StatusOf("pytagger") == "pending"; }, absl::Seconds(20)))
      << StatusOf("pytagger") << "\n"
      << computer_->LogTails();
  absl::StatusOr<testing::CommandResult> listed = computer_->Telec({"cartridges", "list"});
  ASSERT_TRUE(listed.ok());
  EXPECT_THAT(listed->out, HasSubstr("pending UNVERIFIED"));
  absl::StatusOr<testing::CommandResult> activated =
      computer_->Telec({"cartridges", "activate", "pytagger"});
  ASSERT_TRUE(activated.ok());
  EXPECT_THAT(activated->err, HasSubstr("runtime python unavailable"));
  ASSERT_TRUE(WaitFor([] { return StatusOf("pytagger") == "failed"; }, absl::Seconds(20)))
      << StatusOf("pytagger") << "\n"
      << computer_->LogTails();
  absl::StatusOr<testing::CommandResult> show =
      computer_->Telec({"cartridges", "show", "pytagger"});
  ASSERT_TRUE(show.ok());
  EXPECT_THAT(show->out, HasSubstr("runtime python unavailable"));
  EXPECT_THAT(show->out, HasSubstr("python"));
  // Where TeleClaude's sandbox runner reads it.
  std::ifstream in(absl::StrCat(computer_->data_dir(), "/cartridges/pytagger.py"));
  std::stringstream written;
  written << in.rdbuf();
  EXPECT_EQ(written.str(), source);

  // Events keep flowing.
  r = computer_->Telec({"events", "emit", "deployment.started", "--payload", R"({"slug":"web"})",
                        "--visibility", "local"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
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
