#include "cli/telec/input.h"

#include <fstream>
#include <string>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh::telec {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

TEST(InputTest, JsonOptionIsCanonicalized) {
  EXPECT_EQ(*ParseJsonObjectOption("payload", " { \"b\" : 1, \"a\": [true, null] } "),
            "{\"b\":1,\"a\":[true,null]}");
}

TEST(InputTest, InvalidJsonNamesTheOptionAndThePosition) {
  absl::StatusOr<std::string> r = ParseJsonObjectOption("payload", "{\"a\":1,}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "--payload: not valid JSON: Missing a name for object member at offset 7, near \"}\"");
  r = ParseJsonObjectOption("resolution", "{\"decision\": approve}");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(Msg(r.status()), StartsWith("--resolution: not valid JSON: "));
  EXPECT_THAT(Msg(r.status()), HasSubstr("at offset 13, near \"approve}\""));
  r = ParseJsonObjectOption("payload", "{\"a\":");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(Msg(r.status()), HasSubstr("(the end of the text)"));
}

TEST(InputTest, JsonOptionMustBeAnObject) {
  absl::StatusOr<std::string> r = ParseJsonObjectOption("payload", "[1]");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "--payload: expected a JSON object, got array");
}

TEST(InputTest, NotificationIdsAndCounts) {
  EXPECT_EQ(*ParseNotificationId("42"), 42);
  for (const char* bad : {"0", "-1", "abc", "1.5", ""}) {
    absl::StatusOr<int64_t> id = ParseNotificationId(bad);
    ASSERT_FALSE(id.ok()) << bad;
    EXPECT_THAT(Msg(id.status()), HasSubstr("is not a positive number")) << bad;
  }
  EXPECT_EQ(*ParseCountOption("limit", "0"), 0);
  EXPECT_EQ(ParseCountOption("limit", "-3").status().message(),
            "--limit: \"-3\" is not a number; give a whole number >= 0");
}

TEST(InputTest, CartridgeNames) {
  for (const std::string& good : {std::string("a"), std::string("my-filter"), std::string("x_1"),
                                  std::string("0abc"), std::string(64, 'a')}) {
    EXPECT_TRUE(IsValidCartridgeName(good)) << good;
  }
  for (const std::string& bad :
       {std::string(""), std::string("-a"), std::string("_a"), std::string("My"),
        std::string("a/b"), std::string("a.b"), std::string(".."), std::string(65, 'a')}) {
    EXPECT_FALSE(IsValidCartridgeName(bad)) << bad;
  }
  EXPECT_THAT(Msg(ValidateCartridgeName("Bad Name")),
              StartsWith("--name: \"Bad Name\" is not a valid cartridge name; use 1-64"));
}

TEST(InputTest, ReadCartridgeFile) {
  testing::TempDir dir;
  auto write = [&](const std::string& name, const std::string& content) {
    std::ofstream(dir.File(name), std::ios::binary) << content;
    return dir.File(name);
  };
  EXPECT_EQ(*ReadCartridgeFile(write("ok.lua", "return 1\n"), 100), "return 1\n");
  EXPECT_THAT(Msg(ReadCartridgeFile(dir.File("missing.lua"), 100).status()),
              HasSubstr("No such file or directory"));
  EXPECT_THAT(Msg(ReadCartridgeFile(dir.path().string(), 100).status()),
              HasSubstr("is not a regular file"));
  EXPECT_THAT(Msg(ReadCartridgeFile(write("empty.lua", ""), 100).status()), HasSubstr("is empty"));
  EXPECT_THAT(Msg(ReadCartridgeFile(write("big.lua", std::string(101, 'x')), 100).status()),
              HasSubstr("is 101 bytes; cartridges may have at most 100 (--max_cartridge_bytes)"));
  EXPECT_THAT(Msg(ReadCartridgeFile(write("bin.lua", "a\xff\xfe"), 100).status()),
              HasSubstr("is not UTF-8 text"));
  EXPECT_TRUE(ReadCartridgeFile(write("utf8.lua", "-- \xC3\xA9t\xC3\xA9\n"), 100).ok());
}

TEST(InputTest, PublishPayloadHasEveryFieldOfDesign5) {
  PublishRequest r;
  r.name = "my-filter";
  r.version = "1.0.0";
  r.event_type = "system.*";
  r.author = "laptop";
  r.description = "drops \"noise\"";
  r.dependencies = {"dedup"};
  r.source = "return function(e) return e end\n";
  std::string code = absl::Base64Escape(r.source);
  EXPECT_EQ(BuildPublishPayload(r),
            "{\"name\":\"my-filter\",\"event_type\":\"system.*\",\"version\":\"1.0.0\","
            "\"author\":\"laptop\",\"code\":\"" +
                code +
                "\",\"entry_point\":\"process\",\"dependencies\":[\"dedup\"],"
                "\"description\":\"drops \\\"noise\\\"\",\"runtime\":\"lua\"}");
}

}  // namespace
}  // namespace teleclaude::mesh::telec
