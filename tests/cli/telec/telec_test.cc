// telec's exit statuses and messages that need no running service: bad
// command lines, bad input (checked before any call), and services that
// cannot be reached (ports where nothing listens).
#include "cli/telec/telec.h"

#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "common/base/strings.h"
#include "common/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/free_port.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh::telec {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class TelecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    egress_ = Cat("127.0.0.1:", testing::FreeLoopbackPort());
    ingress_ = Cat("127.0.0.1:", testing::FreeLoopbackPort());
    installer_ = Cat("127.0.0.1:", testing::FreeLoopbackPort());
    absl::SetFlag(&FLAGS_egress_addr, egress_);
    absl::SetFlag(&FLAGS_ingress_addr, ingress_);
    absl::SetFlag(&FLAGS_installer_addr, installer_);
    absl::SetFlag(&FLAGS_computer_name, "laptop");
    // A client never creates or probes the data dir.
    absl::SetFlag(&FLAGS_data_dir, (dir_.path() / "not" / "created").string());
    absl::StatusOr<Config> config = ConfigFromFlags(ConfigFor::kClient);
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *config;
    EXPECT_FALSE(std::filesystem::exists(dir_.path() / "not"));
  }

  // Runs telec in-process; returns the exit status.
  int Run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    Invocation inv = ParseArguments(args);
    if (int code = HandleWithoutConfig(inv, out_, err_); code >= 0) return code;
    return RunTelec(inv, config_, out_, err_, absl::Seconds(5));
  }

  testing::TempDir dir_;
  std::string egress_, ingress_, installer_;
  Config config_;
  std::ostringstream out_, err_;
};

std::string CannotReach(std::string_view service, const std::string& addr) {
  return Cat("telec: cannot reach ", service, " at ", addr, " (is telec-", service,
             " running? start it with deploy/run-local.sh)\n");
}

TEST_F(TelecTest, UnreachableServiceIsOneLineAndExit3) {
  struct Case {
    std::vector<std::string> args;
    std::string service;
    std::string addr;
  };
  for (const Case& c : std::vector<Case>{
           {{"peers"}, "egress", egress_},
           {{"events", "emit", "x.y", "--payload", "{\"a\":1}"}, "egress", egress_},
           {{"notifications", "list", "--unseen"}, "egress", egress_},
           {{"notifications", "show", "3"}, "egress", egress_},
           {{"notifications", "seen", "3"}, "egress", egress_},
           {{"notifications", "resolve", "3", "--resolution", "{}"}, "egress", egress_},
           {{"events", "tail"}, "egress", egress_},
           {{"cartridges", "list"}, "installer", installer_},
           {{"cartridges", "show", "x"}, "installer", installer_},
           {{"cartridges", "activate", "x"}, "installer", installer_},
           {{"cartridges", "reject", "x", "--json"}, "installer", installer_},
       }) {
    EXPECT_EQ(Run(c.args), 3) << c.args[0] << " " << c.args[1];
    EXPECT_EQ(err_.str(), CannotReach(c.service, c.addr)) << c.args[0];
    EXPECT_EQ(out_.str(), "") << c.args[0];
  }
}

TEST_F(TelecTest, StatusPrintsTheScreenWhenEverythingIsDown) {
  EXPECT_EQ(Run({"status"}), 3);
  EXPECT_THAT(out_.str(), StartsWith("computer     laptop, no cluster (from the configuration; "
                                     "egress is down)\nservices     egress     " +
                                     egress_ + "  DOWN  not reachable\n"));
  EXPECT_THAT(out_.str(), HasSubstr("sovereignty  unknown (installer is down)\n"));
  EXPECT_EQ(err_.str(),
            "telec: 3 of 3 services are down: egress, ingress, installer (start them with "
            "deploy/run-local.sh)\n");
  EXPECT_EQ(Run({"status", "--json"}), 3);
  EXPECT_THAT(
      out_.str(),
      StartsWith("{\"computer_name\":\"laptop\",\"cluster\":null,"
                 "\"services\":[{\"name\":\"egress\",\"address\":\"" +
                 egress_ + "\",\"up\":false,\"serving\":false,\"error\":\"cannot reach egress"));
}

TEST_F(TelecTest, BadInputIsExit2BeforeAnyCall) {
  EXPECT_EQ(Run({"events", "emit", "x", "--payload", "{\"a\":1,}"}), 2);
  EXPECT_EQ(err_.str(),
            "telec: --payload: not valid JSON: Missing a name for object member at offset 7, "
            "near \"}\"\n");
  EXPECT_EQ(Run({"events", "emit", "x", "--level", "9"}), 2);
  EXPECT_THAT(err_.str(), StartsWith("telec: --level: \"9\" is not a level"));
  EXPECT_EQ(Run({"notifications", "resolve", "4", "--resolution", "[]"}), 2);
  EXPECT_EQ(err_.str(), "telec: --resolution: expected a JSON object, got array\n");
  EXPECT_EQ(Run({"notifications", "show", "abc"}), 2);
  EXPECT_THAT(err_.str(), HasSubstr("notification id \"abc\" is not a positive number"));
  EXPECT_EQ(Run({"notifications", "list", "--seen", "--unseen"}), 2);
  EXPECT_EQ(Run({"notifications", "list", "--since", "last week"}), 2);
  EXPECT_THAT(err_.str(), StartsWith("telec: --since: \"last week\" is not a time"));
  EXPECT_EQ(Run({"cartridges", "publish", dir_.File("x.lua"), "--name", "Bad!", "--version", "1"}),
            2);
  EXPECT_THAT(err_.str(), StartsWith("telec: --name: \"Bad!\" is not a valid cartridge name"));
  EXPECT_EQ(Run({"cartridges", "publish", dir_.File("x.lua"), "--name", "ok"}), 2);
  EXPECT_EQ(err_.str(), "telec: --version is required; e.g. --version=1.0.0\n");
  EXPECT_EQ(Run({"cartridges", "publish", dir_.File("x.lua"), "--name", "ok", "--version", "1"}),
            2);
  EXPECT_THAT(err_.str(), HasSubstr("No such file or directory"));
}

TEST_F(TelecTest, CommandLineErrorsPrintUsageAndExit2) {
  EXPECT_EQ(Run({"frobnicate"}), 2);
  EXPECT_THAT(err_.str(), StartsWith("telec: unknown command \"frobnicate\"\nusage: telec "));
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(Run({"cartridges"}), 2);
  EXPECT_THAT(err_.str(), HasSubstr("usage: telec cartridges SUBCOMMAND"));
  EXPECT_EQ(Run({"peers", "--bogus"}), 2);
  EXPECT_THAT(err_.str(), StartsWith("telec: unknown option --bogus for telec peers"));
}

TEST_F(TelecTest, HelpAndVersionExit0OnStdout) {
  EXPECT_EQ(Run({"--help"}), 0);
  EXPECT_THAT(out_.str(), StartsWith("usage: telec COMMAND"));
  EXPECT_EQ(err_.str(), "");
  EXPECT_EQ(Run({"events", "tail", "--help"}), 0);
  EXPECT_THAT(out_.str(), HasSubstr("--include-meta"));
  EXPECT_EQ(Run({"--version"}), 0);
  EXPECT_EQ(out_.str(), "telec (teleclaude-mesh 0.1.0)\n");
}

}  // namespace
}  // namespace teleclaude::mesh::telec
