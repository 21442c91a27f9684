#include "cli/telec/arguments.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace teleclaude::mesh::telec {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

Invocation Parse(std::vector<std::string> args) { return ParseArguments(args); }

TEST(ArgumentsTest, WordsPickTheCommandAndTheRestAreArgumentsAndOptions) {
  Invocation inv = Parse({"cartridges", "show", "my-filter", "--json"});
  EXPECT_EQ(inv.error, "");
  EXPECT_EQ(inv.level, "cartridges show");
  ASSERT_NE(inv.command, nullptr);
  EXPECT_EQ(inv.command->path, "cartridges show");
  EXPECT_THAT(inv.args, ElementsAre("my-filter"));
  EXPECT_TRUE(inv.Switch("json"));
  EXPECT_FALSE(inv.help);
}

TEST(ArgumentsTest, OptionValuesWithEqualsOrSpaceAndEitherSpelling) {
  Invocation inv = Parse({"events", "tail", "--type", "cartridge.", "--include_meta"});
  EXPECT_EQ(inv.error, "");
  EXPECT_THAT(inv.options,
              UnorderedElementsAre(Pair("type", "cartridge."), Pair("include-meta", "true")));
  inv = Parse({"events", "emit", "a.b", "--payload={\"x\":1}", "--idempotency_key=k"});
  EXPECT_EQ(inv.error, "");
  EXPECT_EQ(inv.Get("payload"), "{\"x\":1}");
  EXPECT_EQ(inv.Get("idempotency-key"), "k");
  EXPECT_FALSE(inv.Has("level"));
}

TEST(ArgumentsTest, ConfigurationFlagsPassThroughBeforeAndAfterTheWords) {
  Invocation inv = Parse({"--egress_addr", "127.0.0.1:7001", "peers", "--installer-addr=h:2",
                          "--computer_name", "laptop"});
  EXPECT_EQ(inv.error, "");
  EXPECT_EQ(inv.level, "peers");
  EXPECT_THAT(inv.config_flags, ElementsAre("--egress_addr=127.0.0.1:7001", "--installer_addr=h:2",
                                            "--computer_name=laptop"));
  inv = Parse({"status", "--flagfile", "/tmp/x"});
  EXPECT_THAT(inv.config_flags, ElementsAre("--flagfile=/tmp/x"));
}

TEST(ArgumentsTest, PublishVersionIsTheCartridgesVersionNotTelecs) {
  Invocation inv = Parse({"cartridges", "publish", "f.lua", "--name", "a", "--version", "1.0"});
  EXPECT_EQ(inv.error, "");
  EXPECT_FALSE(inv.version);
  EXPECT_EQ(inv.Get("version"), "1.0");
  EXPECT_EQ(inv.Get("name"), "a");
  EXPECT_TRUE(Parse({"--version"}).version);
  EXPECT_TRUE(Parse({"peers", "--version"}).version);
}

TEST(ArgumentsTest, HelpAtEveryLevel) {
  for (const auto& [args, level] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--help"}, ""},
           {{"-h"}, ""},
           {{"cartridges", "--help"}, "cartridges"},
           {{"cartridges", "list", "--help"}, "cartridges list"},
           {{"events", "emit", "-h"}, "events emit"},
           {{"notifications", "--help"}, "notifications"},
           {{"status", "--help"}, "status"}}) {
    Invocation inv = Parse(args);
    EXPECT_TRUE(inv.help) << level;
    EXPECT_EQ(inv.error, "") << level;
    EXPECT_EQ(inv.level, level);
  }
}

TEST(ArgumentsTest, UnknownCommandNamesTheWordAndKeepsTheLevelReached) {
  Invocation inv = Parse({"bogus"});
  EXPECT_EQ(inv.error, "unknown command \"bogus\"");
  EXPECT_EQ(inv.level, "");
  inv = Parse({"cartridges", "install", "x"});
  EXPECT_EQ(inv.error, "unknown command \"install\"");
  EXPECT_EQ(inv.level, "cartridges");
}

TEST(ArgumentsTest, MissingCommandAtRootAndGroup) {
  EXPECT_EQ(Parse({}).error, "missing command");
  Invocation inv = Parse({"events"});
  EXPECT_EQ(inv.error, "missing command after \"events\"");
  EXPECT_EQ(inv.level, "events");
}

TEST(ArgumentsTest, WrongNumberOfArguments) {
  EXPECT_EQ(Parse({"cartridges", "show"}).error, "missing NAME (telec cartridges show NAME)");
  EXPECT_EQ(Parse({"peers", "extra"}).error, "unexpected argument \"extra\"");
  EXPECT_EQ(Parse({"notifications", "seen", "1", "2"}).error, "unexpected argument \"2\"");
}

TEST(ArgumentsTest, BadOptions) {
  EXPECT_EQ(Parse({"peers", "--payload", "{}"}).error,
            "unknown option --payload for telec peers; see telec peers --help");
  EXPECT_EQ(Parse({"events", "emit", "x", "--payload"}).error,
            "--payload needs a value; write --payload=JSON");
  EXPECT_EQ(Parse({"peers", "--json=maybe"}).error,
            "--json is a switch; write --json without a value");
  EXPECT_THAT(Parse({"--type", "x", "notifications", "list"}).error,
              HasSubstr("before the command"));
}

// Global switches anywhere on the line (issue 17): `telec --json CMD`.
TEST(ArgumentsTest, JsonMayComeBeforeTheCommandWords) {
  Invocation inv = Parse({"--json", "notifications", "list"});
  EXPECT_EQ(inv.error, "");
  EXPECT_TRUE(inv.Switch("json"));
  inv = Parse({"notifications", "--json", "list"});
  EXPECT_EQ(inv.error, "");
  EXPECT_TRUE(inv.Switch("json"));
}

TEST(ArgumentsTest, DoubleDashEndsOptions) {
  Invocation inv = Parse({"events", "emit", "--", "-odd.type"});
  EXPECT_EQ(inv.error, "");
  EXPECT_THAT(inv.args, ElementsAre("-odd.type"));
  EXPECT_THAT(inv.options, IsEmpty());
}

TEST(ArgumentsTest, HelpTextsListCommandsAndOptions) {
  std::string root = HelpText("");
  for (const CommandSpec& c : AllCommands()) {
    EXPECT_THAT(root, HasSubstr(std::string(c.path))) << c.path;
    std::string own = HelpText(c.path);
    EXPECT_THAT(own, HasSubstr("usage: telec " + std::string(c.path))) << c.path;
    for (const OptionSpec& o : c.options) {
      EXPECT_THAT(own, HasSubstr("--" + std::string(o.name))) << c.path;
    }
    EXPECT_THAT(own, HasSubstr("exit status"));
  }
  std::string group = HelpText("notifications");
  EXPECT_THAT(group, HasSubstr("notifications resolve ID"));
  EXPECT_THAT(group, ::testing::Not(HasSubstr("cartridges list")));
  EXPECT_EQ(UsageText("cartridges show"), "usage: telec cartridges show NAME [options]\n");
}

TEST(ArgumentsTest, EveryListingCommandTakesJson) {
  for (const CommandSpec& c : AllCommands()) {
    // `completion bash` prints a shell script, not data.
    if (c.path == "completion") continue;
    EXPECT_NE(c.FindOption("json"), nullptr) << c.path;
  }
}

TEST(ArgumentsTest, CompletionTakesOneShellAndNoJson) {
  Invocation inv = ParseArguments({"completion", "bash"});
  EXPECT_EQ(inv.error, "");
  EXPECT_EQ(inv.level, "completion");
  EXPECT_EQ(inv.args, std::vector<std::string>{"bash"});
  EXPECT_EQ(ParseArguments({"--json", "completion", "bash"}).error,
            "--json: telec completion has no JSON output");
}

}  // namespace
}  // namespace teleclaude::mesh::telec
