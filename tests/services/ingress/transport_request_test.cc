// DecodeTransportRequest / CommandName / the answer texts against what
// Python TeleClaude does (expected values taken from Python 3.11:
// shlex.split + str.split fallback, json.dumps).
#include "services/ingress/transport_request.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace teleclaude::mesh {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;
using Kind = TransportRequest::Kind;

// What send_request writes for a command.
Fields Request(const std::string& command) {
  return {{"command", command},
          {"timestamp", "1733250000.123456"},
          {"initiator", "py-a"},
          {"origin", "redis"}};
}

TEST(TransportRequestTest, CommandNameIsTheFirstShellWordWithoutLeadingSlashes) {
  const std::vector<std::pair<std::string, std::optional<std::string>>> cases = {
      {"get_computer_info", "get_computer_info"},
      {"/get_computer_info", "get_computer_info"},
      {"  /get_computer_info extra \"a b\"", "get_computer_info"},
      {"\"get_computer_info\"", "get_computer_info"},
      {"get_\"computer\"_info x", "get_computer_info"},
      {"'' x", ""},
      {"\"unclosed x", "\"unclosed"},  // shlex fails: whitespace split
      {"a\\", "a\\"},                  // shlex fails: no escaped character
      {"\\/x", "x"},
      {"\"a\\b\" c", "a\\b"},
      {"\"a\\\"b\"", "a\"b"},
      {"\x0bget_computer_info\x0b", "get_computer_info"},
      {"///", ""},
      {"a\xc2\xa0"
       "b c",
       "a\xc2\xa0"
       "b"},  // NBSP is stripped by str.strip() but does not split for shlex
      {" \t ", std::nullopt},
  };
  for (const auto& [command, expected] : cases) {
    EXPECT_EQ(CommandName(command), expected) << command;
  }
}

TEST(TransportRequestTest, GetComputerInfoIsAnsweredWithInfo) {
  EXPECT_EQ(DecodeTransportRequest(Request("get_computer_info")).kind, Kind::kComputerInfo);
  EXPECT_EQ(DecodeTransportRequest(Request("/get_computer_info now")).kind, Kind::kComputerInfo);
}

TEST(TransportRequestTest, EveryOtherCommandGetsPythonsUnknownCommandError) {
  for (const auto& [command, error] : std::vector<std::pair<std::string, std::string>>{
           {"list_sessions", "Unknown redis command: list_sessions"},
           {"/new_session My Project", "Unknown redis command: new_session"},
           {"   ", "Unknown redis command: None"},
       }) {
    const TransportRequest r = DecodeTransportRequest(Request(command));
    EXPECT_EQ(r.kind, Kind::kError) << command;
    EXPECT_EQ(r.error, error) << command;
  }
}

TEST(TransportRequestTest, SystemMessagesAndEntriesWithoutCommandGetNoAnswer) {
  EXPECT_EQ(DecodeTransportRequest({{"type", "system"}, {"command", "restart"}}).kind,
            Kind::kNoAnswer);
  EXPECT_EQ(DecodeTransportRequest({{"command", ""}}).kind, Kind::kNoAnswer);
  EXPECT_EQ(DecodeTransportRequest({{"type", "other"}, {"payload", "x"}}).kind, Kind::kNoAnswer);
  EXPECT_EQ(DecodeTransportRequest({}).kind, Kind::kNoAnswer);
}

TEST(TransportRequestTest, TheLastOfRepeatedFieldsCounts) {
  EXPECT_EQ(DecodeTransportRequest({{"command", "x"}, {"command", "get_computer_info"}}).kind,
            Kind::kComputerInfo);
  EXPECT_EQ(DecodeTransportRequest({{"type", "system"}, {"type", ""}, {"command", "x"}}).kind,
            Kind::kError);
}

TEST(TransportRequestTest, BadFieldsGiveOneLineErrorsNamingTheField) {
  TransportRequest r =
      DecodeTransportRequest({{"command", "get_computer_info"}, {"title", "ab\xff"}});
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_EQ(r.error, "title: not valid UTF-8 (byte 0xff at offset 2)");
  // Python decodes type first, so even a system message with bad bytes is answered.
  r = DecodeTransportRequest({{"type", "system"}, {"origin", "\xc0\x80"}});
  EXPECT_EQ(r.error, "origin: not valid UTF-8 (byte 0xc0 at offset 0)");
  r = DecodeTransportRequest(Request(std::string(kMaxCommandBytes + 1, 'x')));
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_EQ(r.error, "command: 4097 bytes, over the limit of 4096");
}

TEST(TransportRequestTest, TheEchoedNameIsBounded) {
  const TransportRequest r = DecodeTransportRequest(Request(std::string(1000, 'x') + " y"));
  EXPECT_EQ(r.error, "Unknown redis command: " + std::string(kMaxEchoedNameBytes, 'x'));
}

TEST(TransportRequestTest, AnswersAreJsonDumpsTextInPythonsFieldOrder) {
  ComputerInfo info;
  info.name = "beta";
  info.user = "maurice";
  info.host = "box";
  info.role = "general";
  info.memory_total_gb = 23.5;
  info.memory_available_gb = 10.0;
  info.memory_percent_used = 57.4;
  info.disk_total_gb = 100.0;
  info.disk_free_gb = 0.5;
  info.disk_percent_used = 99.5;
  info.cpu_percent_used = 0.0;
  EXPECT_EQ(ComputerInfoResponse(info),
            R"({"status": "success", "data": {"name": "beta", "status": "online", )"
            R"("user": "maurice", "host": "box", "role": "general", "is_local": true, )"
            R"("system_stats": {"memory": {"total_gb": 23.5, "available_gb": 10.0, )"
            R"("percent_used": 57.4}, "disk": {"total_gb": 100.0, "free_gb": 0.5, )"
            R"("percent_used": 99.5}, "cpu": {"percent_used": 0.0}}, "tmux_binary": null}})");
  EXPECT_EQ(ErrorResponse("Unknown redis command: caf\xc3\xa9"),
            R"({"status": "error", "error": "Unknown redis command: caf\u00e9"})");
}

}  // namespace
}  // namespace teleclaude::mesh
