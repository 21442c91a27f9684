#include "common/envelope/stream_codec.h"

#include <string>

#include "common/envelope/json_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace teleclaude::mesh {
namespace {

StreamFields Base() {
  return {
      {"event", "e"}, {"source", "s"}, {"timestamp", "2025-03-01T12:00:00+00:00"}, {"level", "1"}};
}

std::string Error(StreamFields f) {
  auto r = DecodeEnvelopeStream(f);
  return r.ok() ? "accepted" : std::string(r.status().message());
}

TEST(StreamCodecTest, MinimalEntryUsesPythonDefaults) {
  auto r = DecodeEnvelopeStream(Base());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(
      EncodeEnvelopeJson(*r),
      R"({"event":"e","version":1,"source":"s","timestamp":"2025-03-01T12:00:00Z","idempotency_key":null,"level":1,"domain":"","entity":null,"description":"","visibility":"local","payload":{},"actions":null,"terminal_when":null,"resolution_shape":null})");
}

TEST(StreamCodecTest, ErrorsNameTheField) {
  StreamFields f = Base();
  f.erase(f.begin());
  EXPECT_EQ(Error(f), "event: field required");
  f = Base();
  f.emplace_back("level", "9");
  EXPECT_EQ(Error(f), "level: must be an integer 0-3 (INFRASTRUCTURE..BUSINESS), got \"9\"");
  f = Base();
  f.emplace_back("payload", "[1]");
  EXPECT_EQ(Error(f), "payload: expected a JSON object, got array");
  f = Base();
  f.emplace_back("payload", "{bad");
  EXPECT_THAT(Error(f), ::testing::StartsWith("payload: not valid JSON"));
  f = Base();
  f.emplace_back("_extra", R"({"event": "x"})");
  EXPECT_THAT(Error(f), ::testing::StartsWith("_extra: key \"event\""));
  f = Base();
  f.emplace_back("timestamp", "yesterday");
  EXPECT_THAT(Error(f), ::testing::StartsWith("timestamp: "));
  f = Base();
  f.emplace_back("version", "1.0");
  EXPECT_THAT(Error(f), ::testing::StartsWith("version: "));
  f = Base();
  f.emplace_back("actions", R"({"a": {"description": "d"}})");
  EXPECT_EQ(Error(f), "actions.a.produces: field required");
  f = Base();
  f.emplace_back("visibility", "Public");
  EXPECT_THAT(Error(f), ::testing::StartsWith("visibility: "));
  f = Base();
  f.emplace_back("description", "\xff");
  EXPECT_EQ(Error(f), "description: not valid UTF-8");
}

TEST(StreamCodecTest, PythonIntSpellingsForVersionAndLevel) {
  StreamFields f = Base();
  f.emplace_back("version", " 1_000 ");
  f.emplace_back("level", "+3");
  auto r = DecodeEnvelopeStream(f);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, 1000);
  EXPECT_EQ(r->level, Level::kBusiness);
}

TEST(StreamCodecTest, EmptyContainersAndNullsFollowFromStreamDict) {
  StreamFields f = Base();
  f.emplace_back("actions", "{}");
  f.emplace_back("resolution_shape", "null");
  f.emplace_back("payload", "");
  auto r = DecodeEnvelopeStream(f);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->actions_json, "{}");
  EXPECT_EQ(r->resolution_shape_json, std::nullopt);
  EXPECT_EQ(r->payload_json, "{}");
  // And back out: empty dicts are falsy in Python, written as "".
  StreamFields out = EncodeEnvelopeStream(*r);
  EXPECT_EQ(out[11], (std::pair<std::string, std::string>("actions", "")));
}

TEST(StreamCodecTest, ExtrasTravelInExtraField) {
  auto env = DecodeEnvelopeJson(
      R"({"event":"e","source":"s","level":1,"timestamp":"2025-03-01T12:00:00Z","_mesh_source":"alpha","n":[1.5e-5]})");
  ASSERT_TRUE(env.ok());
  StreamFields f = EncodeEnvelopeStream(*env);
  ASSERT_EQ(f.back().first, "_extra");
  EXPECT_EQ(f.back().second, R"({"_mesh_source": "alpha", "n": [1.5e-05]})");
  auto back = DecodeEnvelopeStream(f);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *env);
}

}  // namespace
}  // namespace teleclaude::mesh
