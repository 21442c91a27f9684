#include "common/envelope/proto_codec.h"

#include <string>

#include "common/envelope/json_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace teleclaude::mesh {
namespace {

namespace pb = teleclaude::mesh::v1;

pb::EventEnvelope Valid() {
  pb::EventEnvelope p;
  p.set_event("e");
  p.set_source("s");
  p.set_timestamp("2025-03-01T12:00:00Z");
  p.set_level(pb::EVENT_LEVEL_WORKFLOW);
  return p;
}

std::string Error(const pb::EventEnvelope& p) {
  auto r = EnvelopeFromProto(p);
  return r.ok() ? "accepted" : std::string(r.status().message());
}

TEST(ProtoCodecTest, RoundTripKeepsEverything) {
  auto env = DecodeEnvelopeJson(
      R"({"event":"e","source":"s","level":3,"timestamp":"2025-03-01T12:00:00.5+05:30","idempotency_key":"","entity":"x","payload":{"big":123456789012345678901234567890,"n":NaN},"actions":{"a":{"description":"d","produces":"p"}},"resolution_shape":{},"terminal_when":"t","z":1,"a":{"b":null}})");
  ASSERT_TRUE(env.ok()) << env.status();
  pb::EventEnvelope p;
  EnvelopeToProto(*env, &p);
  EXPECT_EQ(p.timestamp(), "2025-03-01T12:00:00.500000+05:30");
  EXPECT_EQ(p.extra_json(), R"({"z":1,"a":{"b":null}})");
  EXPECT_TRUE(p.has_idempotency_key());
  auto back = EnvelopeFromProto(p);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, *env);
}

TEST(ProtoCodecTest, ValidatesLikeTheJsonDecoder) {
  pb::EventEnvelope p = Valid();
  p.clear_event();
  EXPECT_EQ(Error(p), "event: must not be empty");
  p = Valid();
  p.clear_source();
  EXPECT_EQ(Error(p), "source: must not be empty");
  p = Valid();
  p.set_payload_json("[1]");
  EXPECT_EQ(Error(p), "payload: expected a JSON object, got array");
  p = Valid();
  p.set_payload_json("{");
  EXPECT_THAT(Error(p), ::testing::StartsWith("payload: not valid JSON"));
  p = Valid();
  p.set_timestamp("2025-02-30T00:00:00Z");
  EXPECT_THAT(Error(p), ::testing::StartsWith("timestamp: "));
  p = Valid();
  p.set_level(static_cast<pb::EventLevel>(9));
  EXPECT_THAT(Error(p), ::testing::StartsWith("level: "));
  p = Valid();
  p.set_extra_json(R"({"level":1})");
  EXPECT_THAT(Error(p), ::testing::StartsWith("extra_json: key \"level\""));
  p = Valid();
  p.set_resolution_shape_json(R"({"a":1})");
  EXPECT_EQ(Error(p), "resolution_shape.a: expected a string, got number");
}

TEST(ProtoCodecTest, EmptyTimestampIsNowAndEmptyPayloadIsEmptyObject) {
  pb::EventEnvelope p = Valid();
  p.clear_timestamp();
  auto r = EnvelopeFromProto(p);
  ASSERT_TRUE(r.ok());
  EXPECT_LT(absl::AbsDuration(r->timestamp.ToTime() - absl::Now()), absl::Seconds(5));
  EXPECT_EQ(r->payload_json, "{}");
  p.set_payload_json(R"({ "a" : 1.50 })");
  r = EnvelopeFromProto(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->payload_json, R"({"a":1.5})");
}

}  // namespace
}  // namespace teleclaude::mesh
