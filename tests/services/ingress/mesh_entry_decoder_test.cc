// Every kind of bad input a mesh stream entry can carry ends as one counted
// rejection with a clear reason; good entries decode with _mesh_source set.
#include "services/ingress/mesh_entry_decoder.h"

#include <string>
#include <utility>
#include <vector>

#include "common/base/utf8.h"
#include "common/json/json_text.h"
#include "gtest/gtest.h"
#include "services/ingress/rejection_event.h"

namespace teleclaude::mesh {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr char kGood[] =
    R"({"event":"deployment.started","source":"alpha","level":1,"visibility":"cluster",)"
    R"("payload":{"n":12345678901234567890}})";

MeshEntryDecoder Decoder(int64_t max_bytes = 4096) { return MeshEntryDecoder({"beta", max_bytes}); }

StreamEntry Entry(Fields fields) { return StreamEntry{"1700000000000-0", std::move(fields)}; }

TEST(MeshEntryDecoderTest, DecodesAGoodEntryAndStampsMeshSource) {
  DecodedEntry d = Decoder().Decode(
      Entry({{"type", "mesh_event"}, {"payload", kGood}, {"source_computer", "alpha"}}));
  ASSERT_EQ(d.kind, DecodedEntry::Kind::kEvent) << d.rejection.detail;
  EXPECT_EQ(d.event.source_computer, "alpha");
  EXPECT_EQ(d.event.envelope.event, "deployment.started");
  EXPECT_EQ(d.event.envelope.payload_json, R"({"n":12345678901234567890,"_mesh_source":"alpha"})");
  EXPECT_EQ(d.event.message_id, "alpha:1700000000000-0");
}

// Issue 15: Python computers' names (spaces, colons, long ones) are senders
// like any other.
TEST(MeshEntryDecoderTest, AcceptsEveryNamePythonAccepts) {
  for (const std::string& name : {std::string("py C"), std::string("a:b"),
                                  std::string("caf\xc3\xa9 *{x}"), std::string(255, 'n')}) {
    DecodedEntry d = Decoder().Decode(
        Entry({{"type", "mesh_event"}, {"payload", kGood}, {"source_computer", name}}));
    ASSERT_EQ(d.kind, DecodedEntry::Kind::kEvent) << name << ": " << d.rejection.detail;
    EXPECT_EQ(d.event.source_computer, name);
  }
}

TEST(MeshEntryDecoderTest, MessageIdIsTheSendersWhenScopedAndScopedOtherwise) {
  auto id = [](std::string given) {
    return Decoder()
        .Decode(Entry({{"type", "mesh_event"},
                       {"payload", kGood},
                       {"source_computer", "alpha"},
                       {"message_id", std::move(given)}}))
        .event.message_id;
  };
  EXPECT_EQ(id("alpha:42"), "alpha:42");
  EXPECT_EQ(id("alpha/local:teleclaude:events:alpha:1712-0/beta"),
            "alpha/local:teleclaude:events:alpha:1712-0/beta");  // egress' form
  EXPECT_EQ(id("bravo/x/beta"), "alpha:bravo/x/beta");           // another peer's id: scoped
  EXPECT_EQ(id(std::string(2000, 'a')), "alpha:1700000000000-0");
  // The limit is the scoped id's: the id it is sent on with reads back the same.
  const std::string longest = std::string(kMaxMessageIdBytes - 6, 'a');  // "alpha:" + it
  EXPECT_EQ(id(longest), "alpha:" + longest);
  EXPECT_EQ(id(id(longest)), "alpha:" + longest);
  EXPECT_EQ(id(longest + "a"), "alpha:1700000000000-0");
  EXPECT_EQ(id("alpha:" + longest), "alpha:" + longest);
  EXPECT_EQ(id("42"), "alpha:42");
  EXPECT_EQ(id("rejected:1-0"), "alpha:rejected:1-0");  // never collides with ingress' own ids
  EXPECT_EQ(id(""), "alpha:1700000000000-0");
  EXPECT_EQ(id("\xff"), "alpha:1700000000000-0");
}

TEST(MeshEntryDecoderTest, OtherTypesAreNotMesh) {
  EXPECT_EQ(Decoder().Decode(Entry({{"type", "chat"}, {"payload", kGood}})).kind,
            DecodedEntry::Kind::kNotMesh);
  EXPECT_EQ(Decoder().Decode(Entry({})).kind, DecodedEntry::Kind::kNotMesh);  // trimmed entry
  EXPECT_EQ(Decoder().Decode(Entry({{"payload", kGood}})).kind, DecodedEntry::Kind::kNotMesh);
}

struct BadCase {
  std::string name;
  Fields fields;
  std::string reason;
  std::string detail_part;
  std::optional<std::string> event_type;
};

TEST(MeshEntryDecoderTest, BadInputBecomesARejectionWithAReason) {
  std::string deep = std::string(500, '[') + std::string(500, ']');
  std::string deep_payload =
      std::string(R"({"event":"x","source":"a","level":1,"payload":{"d":)") + deep + "}}";
  const std::vector<BadCase> cases = {
      {"missing payload",
       {{"type", "mesh_event"}, {"source_computer", "alpha"}},
       "malformed",
       "payload: field missing",
       std::nullopt},
      {"missing source",
       {{"type", "mesh_event"}, {"payload", kGood}},
       "malformed",
       "source_computer: field missing",
       "deployment.started"},
      {"empty source",
       {{"type", "mesh_event"}, {"payload", kGood}, {"source_computer", ""}},
       "malformed",
       "source_computer",
       "deployment.started"},
      {"source with a control character",
       {{"type", "mesh_event"}, {"payload", kGood}, {"source_computer", "a\tb"}},
       "malformed",
       "control character",
       "deployment.started"},
      {"source too long",
       {{"type", "mesh_event"}, {"payload", kGood}, {"source_computer", std::string(256, 'a')}},
       "malformed",
       "256 bytes long",
       "deployment.started"},
      {"source not utf-8",
       {{"type", "mesh_event"}, {"payload", kGood}, {"source_computer", "al\xffpha"}},
       "malformed",
       "not valid UTF-8",
       "deployment.started"},
      {"reflection",
       {{"type", "mesh_event"}, {"payload", kGood}, {"source_computer", "beta"}},
       "reflection",
       "this computer",
       "deployment.started"},
      {"not json",
       {{"type", "mesh_event"}, {"payload", "{nope"}, {"source_computer", "alpha"}},
       "malformed",
       "not valid JSON",
       std::nullopt},
      {"invalid utf-8",
       {{"type", "mesh_event"},
        {"payload", "{\"event\":\"x\xc3\x28\",\"source\":\"a\",\"level\":1}"},
        {"source_computer", "alpha"}},
       "malformed",
       "payload: ",
       std::nullopt},
      {"deep nesting",
       {{"type", "mesh_event"}, {"payload", deep_payload}, {"source_computer", "alpha"}},
       "malformed",
       "payload: ",
       std::nullopt},
      {"missing level",
       {{"type", "mesh_event"},
        {"payload", R"({"event":"e.x","source":"a"})"},
        {"source_computer", "alpha"}},
       "malformed",
       "level",
       "e.x"},
      {"payload not object",
       {{"type", "mesh_event"},
        {"payload", R"({"event":"e.x","source":"a","level":1,"payload":[1]})"},
        {"source_computer", "alpha"}},
       "malformed",
       "payload",
       "e.x"},
      {"json array",
       {{"type", "mesh_event"}, {"payload", "[1,2]"}, {"source_computer", "alpha"}},
       "malformed",
       "payload: ",
       std::nullopt},
      {"too large",
       {{"type", "mesh_event"}, {"payload", std::string(5000, 'x')}, {"source_computer", "alpha"}},
       "too_large",
       "over --max_message_bytes=4096",
       std::nullopt},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    DecodedEntry d = Decoder().Decode(Entry(c.fields));
    ASSERT_EQ(d.kind, DecodedEntry::Kind::kRejected);
    EXPECT_EQ(d.rejection.reason, c.reason);
    EXPECT_NE(d.rejection.detail.find(c.detail_part), std::string::npos) << d.rejection.detail;
    EXPECT_EQ(d.rejection.event_type, c.event_type);
    EXPECT_LE(d.rejection.raw.size(), kRawLimit);
    EXPECT_TRUE(IsValidUtf8(d.rejection.raw));
    EXPECT_TRUE(IsValidUtf8(d.rejection.detail));
    if (d.rejection.source_computer.has_value()) {
      EXPECT_TRUE(IsValidUtf8(*d.rejection.source_computer));
    }
    // The rejection event it becomes is valid JSON text.
    EventEnvelope rejected = BuildRejectionEvent(d.rejection, "beta", "1-0");
    EXPECT_TRUE(json::Canonicalize(rejected.payload_json).ok()) << rejected.payload_json;
    EXPECT_EQ(json::GetMemberString(rejected.payload_json, "reason"), c.reason);
  }
}

// Found by fuzz_mesh_entry: the detail of an over-long source_computer quoted
// its first bytes, cutting a two-byte character in half.
TEST(MeshEntryDecoderTest, DetailOfALongNonAsciiSourceIsValidUtf8) {
  const std::string source = std::string(31, 'a') + "\xC3\xA9" + std::string(300, 'b');
  DecodedEntry d = Decoder().Decode(
      Entry({{"type", "mesh_event"}, {"payload", kGood}, {"source_computer", source}}));
  ASSERT_EQ(d.kind, DecodedEntry::Kind::kRejected);
  EXPECT_EQ(d.rejection.reason, "malformed");
  EXPECT_NE(d.rejection.detail.find("bytes long"), std::string::npos) << d.rejection.detail;
  EXPECT_TRUE(IsValidUtf8(d.rejection.detail)) << d.rejection.detail;
}

TEST(MeshEntryDecoderTest, RawIsAValidUtf8PrefixOfAtMost256Bytes) {
  EXPECT_EQ(SanitizeUtf8Prefix("ab\xff"
                               "c",
                               10),
            "ab\xEF\xBF\xBD"
            "c");
  EXPECT_EQ(SanitizeUtf8Prefix("\xC3\xA9\xC3\xA9", 3), "\xC3\xA9");  // no half character
  EXPECT_EQ(SanitizeUtf8Prefix("\xED\xA0\x80", 10), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(SanitizeUtf8Prefix(std::string(1000, 'a'), 256).size(), 256u);
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98"));
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));  // overlong
}

TEST(RejectionEventTest, IsALocalOperationalMeshEventNamingSourceTypeAndReason) {
  Rejection r{"untrusted", "zulu has no live heartbeat", "zulu", "deployment.started", "{...}"};
  EventEnvelope e = BuildRejectionEvent(r, "beta", "5-1");
  EXPECT_EQ(e.event, "mesh.event.rejected");
  EXPECT_EQ(e.level, Level::kOperational);
  EXPECT_EQ(e.visibility, Visibility::kLocal);
  EXPECT_EQ(e.source, "beta");
  EXPECT_EQ(e.payload_json,
            R"({"source_computer":"zulu","event_type":"deployment.started","reason":"untrusted",)"
            R"("detail":"zulu has no live heartbeat","raw":"{...}","stream_entry_id":"5-1"})");
  EXPECT_EQ(RejectionMessageId("5-1"), "rejected:5-1");
}

}  // namespace
}  // namespace teleclaude::mesh
