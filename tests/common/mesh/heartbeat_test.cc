#include "common/mesh/heartbeat.h"

#include "common/mesh/mesh_message.h"
#include "gtest/gtest.h"

namespace teleclaude::mesh {
namespace {

TEST(HeartbeatTest, EncodesLikePythonJsonDumps) {
  EXPECT_EQ(EncodeHeartbeat({"alpha", "2025-03-01T12:34:56.789012+00:00", std::nullopt}),
            R"({"computer_name": "alpha", "last_seen": "2025-03-01T12:34:56.789012+00:00"})");
  EXPECT_EQ(
      EncodeHeartbeat({"beta", "2025-03-01T12:34:56+00:00", "x"}),
      R"({"computer_name": "beta", "last_seen": "2025-03-01T12:34:56+00:00", "cluster": "x"})");
}

TEST(HeartbeatTest, EncodesNonAsciiEscapedAsPythonDoes) {
  EXPECT_EQ(EncodeHeartbeat({"b\xC3\xA9ta", "t", std::nullopt}),
            R"({"computer_name": "b\u00e9ta", "last_seen": "t"})");
}

TEST(HeartbeatTest, DecodesPythonHeartbeatWithoutCluster) {
  auto hb =
      DecodeHeartbeat(R"({"computer_name": "alpha", "last_seen": "2025-03-01T12:34:56+00:00"})");
  ASSERT_TRUE(hb.ok()) << hb.status();
  EXPECT_EQ(hb->computer_name, "alpha");
  EXPECT_EQ(hb->last_seen, "2025-03-01T12:34:56+00:00");
  EXPECT_FALSE(hb->cluster.has_value());
}

TEST(HeartbeatTest, RoundTripsWithCluster) {
  Heartbeat in{"gamma", "2025-03-01T12:34:56Z", "blue"};
  auto out = DecodeHeartbeat(EncodeHeartbeat(in));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, in);
}

TEST(HeartbeatTest, NullOrEmptyClusterIsNone) {
  auto a = DecodeHeartbeat(R"({"computer_name": "a", "last_seen": "t", "cluster": null})");
  auto b = DecodeHeartbeat(R"({"computer_name": "a", "last_seen": "t", "cluster": ""})");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(a->cluster.has_value());
  EXPECT_FALSE(b->cluster.has_value());
}

TEST(HeartbeatTest, RejectsMalformedValuesNamingTheProblem) {
  struct Case {
    const char* json;
    const char* expect;
  } cases[] = {
      {"", "not valid JSON"},
      {"[1]", "expected a JSON object"},
      {R"({"last_seen": "t"})", "computer_name"},
      {R"({"computer_name": "", "last_seen": "t"})", "computer_name"},
      {R"({"computer_name": 5, "last_seen": "t"})", "computer_name"},
      {R"({"computer_name": "a"})", "last_seen"},
      {R"({"computer_name": "a", "last_seen": "t", "cluster": 3})", "cluster"},
  };
  for (const Case& c : cases) {
    auto hb = DecodeHeartbeat(c.json);
    ASSERT_FALSE(hb.ok()) << c.json;
    EXPECT_NE(hb.status().message().find(c.expect), std::string::npos)
        << c.json << " -> " << hb.status().message();
  }
}

// Found by fuzz_heartbeat: a raw 0xFF byte in a string was accepted, and the
// heartbeat then encoded to text with different contents.
TEST(HeartbeatTest, RejectsInvalidUtf8) {
  for (const char* text :
       {"{\"computer_name\": \"alpha\", \"last_seen\": \"4\xFF"
        "050\"}",
        "{\"computer_name\": \"al\xC3\", \"last_seen\": \"t\"}",
        "{\"computer_name\": \"a\", \"last_seen\": \"t\", \"cluster\": \"\xED\xA0\x80\"}"}) {
    auto hb = DecodeHeartbeat(text);
    ASSERT_FALSE(hb.ok()) << text;
    EXPECT_EQ(hb.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(hb.status().message().find("not valid JSON"), absl::string_view::npos) << hb.status();
  }
}

TEST(HeartbeatTest, KeyRoundTrip) {
  EXPECT_EQ(HeartbeatKey("alpha"), "computer:alpha:heartbeat");
  EXPECT_EQ(ComputerNameFromHeartbeatKey("computer:alpha:heartbeat"), "alpha");
  EXPECT_EQ(ComputerNameFromHeartbeatKey("computer:heartbeat"), std::nullopt);
  EXPECT_EQ(ComputerNameFromHeartbeatKey("session:alpha:heartbeat"), std::nullopt);
}

TEST(MeshMessageTest, EncodesWireOrderAndParsesBack) {
  auto fields = EncodeMeshMessage(R"({"event":"x"})", "alpha", "alpha:1-0:beta");
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields[0], (std::pair<std::string, std::string>{"type", "mesh_event"}));
  EXPECT_EQ(fields[1].first, "payload");
  EXPECT_EQ(fields[2], (std::pair<std::string, std::string>{"source_computer", "alpha"}));
  EXPECT_EQ(fields[3].first, "message_id");
  MeshMessage m = ParseMeshMessage(fields);
  EXPECT_EQ(m.type, "mesh_event");
  EXPECT_EQ(m.payload, R"({"event":"x"})");
  EXPECT_EQ(m.source_computer, "alpha");
  EXPECT_EQ(m.message_id, "alpha:1-0:beta");
}

TEST(MeshMessageTest, PythonMessagesHaveNoMessageId) {
  EXPECT_EQ(EncodeMeshMessage("{}", "a", "").size(), 3u);
  MeshMessage m = ParseMeshMessage({{"type", "other"}});
  EXPECT_EQ(m.type, "other");
  EXPECT_FALSE(m.payload.has_value());
  EXPECT_FALSE(m.message_id.has_value());
}

}  // namespace
}  // namespace teleclaude::mesh
