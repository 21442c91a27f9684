// The sandbox runner's wire format (runner_protocol.h) against the bytes
// TeleClaude's protocol.py writes: request shape, frame header, and the
// checks on every (hostile) response.
#include "services/egress/python/runner_protocol.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace teleclaude::mesh {
namespace {

using ::testing::HasSubstr;

std::string Header(uint32_t n) {
  return std::string{static_cast<char>(n >> 24), static_cast<char>((n >> 16) & 0xff),
                     static_cast<char>((n >> 8) & 0xff), static_cast<char>(n & 0xff)};
}

TEST(RunnerProtocolTest, RequestIsOneFrameWithTheStreamDictAndTheCatalog) {
  EventEnvelope e;
  e.event = "deployment.started";
  e.source = "lab";
  e.level = Level::kWorkflow;
  e.payload_json = R"({"slug":"web"})";
  absl::StatusOr<std::string> frame =
      EncodeRunnerRequest("tagger", e, CatalogSnapshotJson(BuildDefaultCatalog()));
  ASSERT_TRUE(frame.ok()) << frame.status();
  std::string body = frame->substr(4);
  EXPECT_EQ(frame->substr(0, 4), Header(static_cast<uint32_t>(body.size())));
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["cartridge_name"].GetString(), "tagger");
  // to_stream_dict: every value a string, JSON in Python's json.dumps style.
  EXPECT_STREQ(doc["envelope"]["level"].GetString(), "2");
  EXPECT_STREQ(doc["envelope"]["payload"].GetString(), R"({"slug": "web"})");
  ASSERT_TRUE(doc["catalog_snapshot"].IsArray());
  ASSERT_GT(doc["catalog_snapshot"].Size(), 0u);
  const rapidjson::Value& first = doc["catalog_snapshot"][0];
  for (const char* key : {"event_type", "description", "default_level", "domain",
                          "default_visibility", "idempotency_fields", "lifecycle", "actionable"}) {
    EXPECT_TRUE(first.HasMember(key)) << key;
  }
  EXPECT_TRUE(first["default_level"].IsInt());
}

TEST(RunnerProtocolTest, PingIsThePingNameWithAnEmptyEnvelope) {
  EXPECT_EQ(EncodeRunnerPing(),
            Header(65) + R"({"cartridge_name":"__ping__","envelope":{},"catalog_snapshot":[]})");
}

TEST(RunnerProtocolTest, FrameHeaderAboveFourMebibytesIsRefused) {
  EXPECT_EQ(*DecodeRunnerFrameHeader(Header(4 * 1024 * 1024)), 4u * 1024 * 1024);
  absl::StatusOr<uint32_t> big = DecodeRunnerFrameHeader(Header(4 * 1024 * 1024 + 1));
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.status().message(), HasSubstr("exceeds the runner's 4194304-byte limit"));
  EXPECT_FALSE(DecodeRunnerFrameHeader("\xff\xff\xff\xff").ok());
}

TEST(RunnerProtocolTest, ResponseWithAnEnvelopeDecodesIt) {
  absl::StatusOr<RunnerResponse> r = DecodeRunnerResponse(
      R"({"envelope": {"event": "a", "version": "1", "source": "b", )"
      R"("timestamp": "2025-01-01T00:00:00+00:00", "idempotency_key": "", "level": "1", )"
      R"("domain": "", "entity": "", "description": "", "visibility": "local", )"
      R"("payload": "{\"tagged\": true}", "actions": "", "terminal_when": "", )"
      R"("resolution_shape": ""}, "error": null, "duration_ms": 0.47})");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->envelope.has_value());
  EXPECT_EQ(r->envelope->event, "a");
  EXPECT_EQ(r->envelope->payload_json, R"({"tagged":true})");
  EXPECT_FALSE(r->error.has_value());
  EXPECT_DOUBLE_EQ(r->duration_ms, 0.47);
}

TEST(RunnerProtocolTest, NullEnvelopeWithoutErrorMeansDrop) {
  absl::StatusOr<RunnerResponse> r =
      DecodeRunnerResponse(R"({"envelope": null, "error": null, "duration_ms": 0.0})");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->envelope.has_value());
  EXPECT_FALSE(r->error.has_value());
  // Missing keys are null, as response_from_dict's .get().
  r = DecodeRunnerResponse("{}");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->envelope.has_value());
}

// runner.py sets `error` only from an exception (str(exc)); an exception
// without a message gives "", which must stay an error (not a drop).
TEST(RunnerProtocolTest, ErrorIsKeptEvenWhenEmptyAndOnlyNullOrMissingIsNone) {
  absl::StatusOr<RunnerResponse> r =
      DecodeRunnerResponse(R"({"envelope": null, "error": "timeout", "duration_ms": 10000.1})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, "timeout");
  r = DecodeRunnerResponse(R"({"envelope": null, "error": "", "duration_ms": 1})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, "");
  r = DecodeRunnerResponse(R"({"envelope": null, "error": null, "duration_ms": 1})");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->error.has_value());
  r = DecodeRunnerResponse(R"({"envelope": null})");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->error.has_value());
}

TEST(RunnerProtocolTest, HostileResponsesAreRefusedNamingTheField) {
  struct Case {
    std::string body;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"[1]", "response: expected a JSON object, got array"},
           {"not json", "response: not valid JSON"},
           {std::string(300, '['), "nesting deeper than 200"},
           {R"({"error": 5})", "response.error: expected a string or null, got number"},
           {R"({"duration_ms": "fast"})", "response.duration_ms: expected a number"},
           {R"({"envelope": [1]})", "response.envelope: expected an object"},
           {R"({"envelope": {"event": "a", "level": 1}})",
            "response.envelope.level: expected a string"},
           {R"({"envelope": {"event": "a", "source": "b", "timestamp": "2025-01-01T00:00:00",)"
            R"( "level": "9"}})",
            "response.envelope.level: must be an integer 0-3"},
           {R"({"envelope": {"source": "b", "timestamp": "2025-01-01T00:00:00", "level": "1"}})",
            "response.envelope.event"},
           {"{\"error\": \"\xff\"}", "response.error: not valid UTF-8"},
       }) {
    absl::StatusOr<RunnerResponse> r = DecodeRunnerResponse(c.body);
    ASSERT_FALSE(r.ok()) << c.body.substr(0, 80);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.error)) << c.body.substr(0, 80);
  }
  EXPECT_FALSE(DecodeRunnerResponse(std::string(4 * 1024 * 1024 + 1, ' ')).ok());
}

}  // namespace
}  // namespace teleclaude::mesh
