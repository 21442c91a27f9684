#include "common/envelope/json_codec.h"

#include <string>
#include <vector>

#include "common/envelope/internal/json_decode.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace teleclaude::mesh {
namespace {

constexpr char kHead[] = R"({"event":"e","source":"s","timestamp":"2025-03-01T12:00:00Z",)";

std::string Error(std::string_view json) {
  auto r = DecodeEnvelopeJson(json);
  if (r.ok()) return "accepted";
  return std::string(r.status().message());
}

std::string RoundTrip(std::string_view json) {
  auto r = DecodeEnvelopeJson(json);
  if (!r.ok()) return "error: " + std::string(r.status().message());
  return EncodeEnvelopeJson(*r);
}

TEST(JsonCodecTest, ErrorMessagesNameTheFieldAndTheFix) {
  EXPECT_EQ(Error(std::string(kHead) + R"("level":"two"})"),
            "level: must be an integer 0-3 (INFRASTRUCTURE..BUSINESS), got \"two\"");
  EXPECT_EQ(Error(std::string(kHead) + R"("level":1,"payload":null})"),
            "payload: expected a JSON object, got null");
  EXPECT_EQ(Error(std::string(kHead) + R"("level":1,"visibility":"CLUSTER"})"),
            "visibility: must be \"local\", \"cluster\" or \"public\", got \"CLUSTER\"");
  EXPECT_EQ(Error(R"({"level":1})"), "event: field required");
  EXPECT_EQ(Error(std::string(kHead) + R"("level":1,"version":1.5})"),
            "version: expected an integer, got a number with a fractional part (1.5)");
  EXPECT_EQ(Error(std::string(kHead) + R"("level":1,"actions":{"retry":{"description":"d"}}})"),
            "actions.retry.produces: field required");
  EXPECT_EQ(
      Error(
          std::string(kHead) +
          R"("level":1,"actions":{"r":{"description":"d","produces":"p","outcome_shape":{"n":1}}}})"),
      "actions.r.outcome_shape.n: expected a string, got number");
  EXPECT_EQ(Error(std::string(kHead) + R"("level":1,"actions":{"r":"x"}})"),
            "actions.r: expected a JSON object, got string");
  EXPECT_EQ(Error(std::string(kHead) + R"("level":1,"resolution_shape":{"a":1}})"),
            "resolution_shape.a: expected a string, got number");
  EXPECT_EQ(Error("[1]"), "(root): expected a JSON object, got array");
  EXPECT_THAT(Error(R"({"event":"e","source":"s"x)"),
              ::testing::StartsWith("(root): not valid JSON: "));
  EXPECT_THAT(Error(R"({"event":"e","source":"s"x)"), ::testing::EndsWith("at offset 25"));
  EXPECT_THAT(Error(std::string(kHead) + R"("level":1,"timestamp":"2025-02-30"})"),
              ::testing::StartsWith("timestamp: not a valid date-time ("));
}

TEST(JsonCodecTest, FirstErrorInDeclaredFieldOrder) {
  // pydantic reports errors in declared field order, not input order.
  EXPECT_EQ(Error(R"({"level":"x","visibility":"no","source":5,"event":"e"})"),
            "source: expected a string, got number");
}

TEST(JsonCodecTest, LaxInputsAcceptedLikeThePythonModel) {
  auto level = [](std::string_view v) {
    auto r = DecodeEnvelopeJson(std::string(kHead) + "\"level\":" + std::string(v) + "}");
    return r.ok() ? static_cast<int>(r->level) : -1;
  };
  EXPECT_EQ(level("2"), 2);
  EXPECT_EQ(level("\"2\""), 2);
  EXPECT_EQ(level("\" 3 \""), 3);
  EXPECT_EQ(level("\"2.00\""), 2);
  EXPECT_EQ(level("2.0"), 2);
  EXPECT_EQ(level("true"), 1);
  EXPECT_EQ(level("false"), 0);
  EXPECT_EQ(level("1.5"), -1);
  EXPECT_EQ(level("\"WORKFLOW\""), -1);
  EXPECT_EQ(level("null"), -1);
  EXPECT_EQ(level("4"), -1);
  EXPECT_EQ(level("[]"), -1);

  auto r = DecodeEnvelopeJson(std::string(kHead) + R"("level":0,"version":"7"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->version, 7);
  EXPECT_FALSE(
      DecodeEnvelopeJson(std::string(kHead) + R"("level":0,"version":99999999999999999999})").ok());
}

TEST(JsonCodecTest, DuplicateKeysLastWinsExtrasKeepFirstPosition) {
  EXPECT_EQ(
      RoundTrip(
          R"({"x":1,"event":"a","y":2,"event":"b","source":"s","level":0,"timestamp":"2025-03-01T12:00:00Z","x":3,"payload":{"k":1,"k":2}})"),
      R"({"event":"b","version":1,"source":"s","timestamp":"2025-03-01T12:00:00Z","idempotency_key":null,"level":0,"domain":"","entity":null,"description":"","visibility":"local","payload":{"k":2},"actions":null,"terminal_when":null,"resolution_shape":null,"x":3,"y":2})");
}

TEST(JsonCodecTest, ActionsAreRebuiltInDeclaredShape) {
  auto r = DecodeEnvelopeJson(
      std::string(kHead) +
      R"("level":1,"actions":{"a":{"produces":"p","junk":1,"description":"d"}}})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r->actions_json, R"({"a":{"description":"d","produces":"p","outcome_shape":null}})");
}

TEST(JsonCodecTest, MissingTimestampIsNowUtc) {
  absl::Time before = absl::Now() - absl::Seconds(1);
  auto r = DecodeEnvelopeJson(R"({"event":"e","source":"s","level":1})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->timestamp.utc_offset_seconds, 0);
  EXPECT_GE(r->timestamp.ToTime(), before);
  EXPECT_LE(r->timestamp.ToTime(), absl::Now() + absl::Seconds(1));
}

TEST(JsonCodecTest, NonFiniteKeptInModelWrittenAsNull) {
  auto r = DecodeEnvelopeJson(std::string(kHead) +
                              R"("level":1,"payload":{"n":NaN,"g":1e400},"x":-Infinity})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->payload_json, R"({"n":NaN,"g":Infinity})");
  std::string out = EncodeEnvelopeJson(*r);
  EXPECT_THAT(out, ::testing::HasSubstr(R"("payload":{"n":null,"g":null})"));
  EXPECT_THAT(out, ::testing::EndsWith(R"("x":null})"));
}

TEST(JsonCodecTest, HostileInputsAreRejectedCleanly) {
  std::string deep = std::string(kHead) + R"("level":1,"payload":{"a":)" + std::string(5000, '[') +
                     std::string(5000, ']') + "}}";
  EXPECT_THAT(Error(deep), ::testing::HasSubstr("nesting deeper than"));
  EXPECT_THAT(Error(""), ::testing::StartsWith("(root): not valid JSON"));
  EXPECT_THAT(Error(std::string("{\"event\":\"\xff\"}")),
              ::testing::StartsWith("(root): not valid JSON"));
  EXPECT_THAT(Error(R"({"event":"\ud800","source":"s","level":1})"),
              ::testing::StartsWith("(root): not valid JSON"));
}

// The decoder reads model text (what the mesh carries) without the general
// parser; whatever it reads that way must come out exactly as the general
// parse makes it, and everything else must still go through the parser.
TEST(JsonCodecTest, ModelTextFastPathAgreesWithFullParse) {
  const std::string typical =
      R"({"event":"system.worker.crashed","version":1,"source":"alpha",)"
      R"("timestamp":"2025-03-01T12:34:56.789012Z","idempotency_key":null,"level":1,)"
      R"("domain":"system","entity":"worker:indexer","description":"A worker crashed",)"
      R"("visibility":"public","payload":{"worker_name":"indexer","exit_code":137,)"
      R"("uptime_s":8123.5,"tags":["prod","eu-west"],"nested":{"a":[1,{"b":null}],"t":true}},)"
      R"("actions":null,"terminal_when":null,"resolution_shape":null})";
  const std::vector<std::string> inputs = {
      typical,
      std::string(kHead) + R"("level":1})",
      std::string(kHead) + R"("level":1,"payload":{}})",
      std::string(kHead) + R"("level":1,"payload":{"s":"caf\u00e9"}})",  // not canonical
      std::string(kHead) + R"("level":1,"payload":{"s":"café","e":"\n\"\\\u001f"}})",
      std::string(kHead) + R"("level":1,"payload":{"s":"a\/b"}})",        // not canonical
      std::string(kHead) + R"("level":1,"payload":{"s":"\u000a"}})",      // short form exists
      std::string(kHead) + R"("level":1,"payload":{"s":"\u001F"}})",      // upper case hex
      std::string(kHead) + R"("level":1,"payload":{"f":1.50,"g":2.0}})",  // 1.50 not canonical
      std::string(kHead) + R"("level":1,"payload":{"f":1e5,"z":-0,"y":-0.0}})",
      std::string(kHead) + R"("level":1,"payload":{"f":0.000001,"g":0.00001}})",
      std::string(kHead) + R"("level":1,"payload":{"i":123456789012345678901234567890}})",
      std::string(kHead) + R"("level":1,"payload":{"f":1234567890.1234567}})",
      std::string(kHead) + R"("level":1,"payload":{"k":1,"k":2}})",   // duplicate
      std::string(kHead) + R"("level":1,"payload":{"k":1, "j":2}})",  // whitespace
      std::string(kHead) + R"("level":1,"payload":{"n":NaN}})",
      std::string(kHead) +
          R"("level":1,"payload":{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}})",
      std::string(kHead) + R"("level":1,"payload":{"a":[1,]}})",
      std::string(kHead) + R"("level":1,"payload":{"a":01}})",
      std::string(kHead) + R"("level":1,"payload":{"a":tru}})",
      std::string(kHead) + R"("level":1,"payload":{"a":"x})",
      std::string(kHead) + R"("level":1,"payload":[1,2]})",
      std::string(kHead) + R"("level":"1","version":"2","x":[1,"2"],"y":{"z":"w"},"n":null})",
      std::string(kHead) + R"("level":1.0,"version":2.5})",
      std::string(kHead) + R"("level":1,"version":-0})",
      std::string(kHead) + R"("level":1,"version":1e0})",
      std::string(kHead) + R"("level":true,"description":"line\nbreak"})",
      std::string(kHead) + R"("level":1,"description":"tab	raw"})",
      std::string(kHead) + "\"level\":1,\"description\":\"bad \xc3\x28\"}",
      std::string(kHead) + "\"level\":1,\"\xe2\x82\xac\":\"euro key\"}",
      std::string(kHead) + "\"level\":1,\"\xff\":1}",
      std::string(kHead) + R"("level":1,"event":"again","x":1,"x":2,"event":"last"})",
      std::string(kHead) + R"("level":1} )",
      std::string(kHead) + R"("level":1}x)",
      std::string(kHead) + R"("level":1,})",
      std::string(kHead) + R"("level" : 1})",
      std::string(kHead) + R"("level":1,"actions":{"r":{"description":"d","produces":"p"}}})",
      std::string(kHead) + R"("level":1,"resolution_shape":{"a":"b"},"terminal_when":"done"})",
      std::string(kHead) + R"("level":1,"resolution_shape":{"a":1}})",
      std::string(kHead) + R"("level":1,"timestamp":1740832496.5})",
      std::string(kHead) + R"("level":1,"timestamp":"2025-02-30T00:00:00"})",
      R"({})",
      R"({"event":"e"})",
      R"({"event":"e","source":"s","level":1,"timestamp":"2025-03-01"})",
      R"([1])",
      R"("x")",
      R"({"event":"e")",
      std::string("{\"event\":\"e\0\",\"source\":\"s\",\"level\":1}", 38),
  };
  for (const std::string& input : inputs) {
    absl::StatusOr<EventEnvelope> fast = DecodeEnvelopeJson(input);
    absl::StatusOr<EventEnvelope> full = envelope_internal::DecodeEnvelopeJsonFullParse(input);
    ASSERT_EQ(fast.ok(), full.ok()) << input << "\n" << fast.status() << "\n" << full.status();
    if (fast.ok()) {
      EXPECT_TRUE(*fast == *full) << input << "\n"
                                  << EncodeEnvelopeJson(*fast) << "\n"
                                  << EncodeEnvelopeJson(*full);
    } else {
      EXPECT_EQ(fast.status(), full.status()) << input;
    }
  }
}

}  // namespace
}  // namespace teleclaude::mesh
