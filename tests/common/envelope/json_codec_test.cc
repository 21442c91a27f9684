#include "common/envelope/json_codec.h"

#include <string>

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

}  // namespace
}  // namespace teleclaude::mesh
