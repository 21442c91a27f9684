#include "common/mesh/heartbeat.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "common/base/utf8.h"
#include "gtest/gtest.h"
#include "tests/common/identity/test_keys.h"

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

// Signed heartbeats (doc/security.md "Signed heartbeat").

const Heartbeat kAlphaBeat{"alpha", "2025-03-01T12:34:56.789012+00:00", "red"};

// Computed with Python (json.dumps of the dict, Ed25519 by `cryptography`).
constexpr std::string_view kAlphaSignedBeat =
    R"({"computer_name": "alpha", "last_seen": "2025-03-01T12:34:56.789012+00:00", )"
    R"("cluster": "red", "public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", )"
    R"("fingerprint": "x2dz-vsp7-rjue-4zt6-ckvj-yoyq-vqbr-766f", "signature": )"
    R"("v1:paPRA8ung6u0H27/WHtt3f+vNGR/Jw5jxSFFP9qU5l53Ig9obM5AeYT5LWLmPq7Csp84/iWijNH5R4me87DmAw=="})";

std::string Replace(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The message of a refused heartbeat, checking the code.
std::string Refusal(std::string_view key, std::string_view value,
                    absl::StatusCode code = absl::StatusCode::kInvalidArgument) {
  auto hb = DecodeSignedHeartbeat(key, value);
  EXPECT_FALSE(hb.ok()) << value;
  if (hb.ok()) return "";
  EXPECT_EQ(hb.status().code(), code) << hb.status();
  return std::string(hb.status().message());
}

TEST(HeartbeatTest, SignedHeartbeatIsPythonJsonWithTheIdentityFields) {
  EXPECT_EQ(EncodeSignedHeartbeat(kAlphaBeat, *testing::AlphaKey()), kAlphaSignedBeat);
}

TEST(HeartbeatTest, DecodesAndVerifiesASignedHeartbeat) {
  auto checked = DecodeSignedHeartbeat("computer:alpha:heartbeat", kAlphaSignedBeat);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->heartbeat, kAlphaBeat);
  ASSERT_TRUE(checked->signer.has_value());
  EXPECT_EQ(checked->signer->public_key, testing::AlphaKey()->public_key());
  EXPECT_EQ(checked->signer->fingerprint.ToString(), testing::kAlphaFingerprint);
  EXPECT_EQ(checked->signer->last_seen,
            absl::FromUnixMicros(1740832496789012));  // 2025-03-01T12:34:56.789012Z
}

TEST(HeartbeatTest, ReadersOfUnsignedHeartbeatsAcceptSignedOnes) {
  auto hb = DecodeHeartbeat(kAlphaSignedBeat);
  ASSERT_TRUE(hb.ok()) << hb.status();
  EXPECT_EQ(*hb, kAlphaBeat);
}

TEST(HeartbeatTest, PythonHeartbeatIsUnsigned) {
  auto checked = DecodeSignedHeartbeat(
      "computer:py:heartbeat", R"({"computer_name": "py", "last_seen": "2025-03-01T12:00:00"})");
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->heartbeat.computer_name, "py");
  EXPECT_FALSE(checked->signer.has_value());
}

TEST(HeartbeatTest, StoppingStateIsWrittenSignedAndRead) {
  Heartbeat stopping = kAlphaBeat;
  stopping.state = HeartbeatState::kStopping;
  const std::string value = EncodeSignedHeartbeat(stopping, *testing::AlphaKey());
  EXPECT_NE(value.find(R"("cluster": "red", "state": "stopping", "public_key")"), std::string::npos)
      << value;
  auto checked = DecodeSignedHeartbeat("computer:alpha:heartbeat", value);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->heartbeat.state, HeartbeatState::kStopping);
  // Dropping the state is an alteration.
  EXPECT_EQ(Refusal("computer:alpha:heartbeat", Replace(value, R"("state": "stopping", )", ""),
                    absl::StatusCode::kUnauthenticated),
            "heartbeat: signature: does not verify against public_key (forged or altered)");
  EXPECT_EQ(Refusal("computer:alpha:heartbeat",
                    Replace(value, R"("state": "stopping")", R"("state": "asleep")")),
            "heartbeat: state is not \"running\" or \"stopping\"");
}

TEST(HeartbeatTest, UnsignedStateIsNotJudged) {
  // A Python peer's fields are not ours: an unknown state reads as running.
  for (std::string_view state : {R"("asleep")", "5", "null"}) {
    const std::string value =
        std::string(R"({"computer_name": "py", "last_seen": "t", "state": )") + std::string(state) +
        "}";
    auto hb = DecodeHeartbeat(value);
    ASSERT_TRUE(hb.ok()) << value << ": " << hb.status();
    EXPECT_EQ(hb->state, HeartbeatState::kRunning);
    auto checked = DecodeSignedHeartbeat("computer:py:heartbeat", value);
    ASSERT_TRUE(checked.ok()) << value << ": " << checked.status();
    EXPECT_EQ(checked->heartbeat.state, HeartbeatState::kRunning);
  }
}

TEST(HeartbeatTest, RefusesAHeartbeatStoredUnderAnotherComputersKey) {
  // Issue 14: `computer:A0:heartbeat` claiming A's name and another cluster.
  EXPECT_EQ(Refusal("computer:alpha0:heartbeat", kAlphaSignedBeat),
            "heartbeat: computer_name: \"alpha\" is not the name in its key "
            "\"computer:alpha0:heartbeat\"; a heartbeat key carries only its own computer's "
            "heartbeat");
  EXPECT_EQ(Refusal("computer:alpha0:heartbeat",
                    R"({"computer_name": "alpha", "last_seen": "t", "cluster": "evil"})"),
            "heartbeat: computer_name: \"alpha\" is not the name in its key "
            "\"computer:alpha0:heartbeat\"; a heartbeat key carries only its own computer's "
            "heartbeat");
  EXPECT_EQ(Refusal("session:alpha", kAlphaSignedBeat),
            "heartbeat: key: \"session:alpha\" is not of the form computer:{name}:heartbeat");
}

TEST(HeartbeatTest, RefusesAlteredSignedFields) {
  const std::string key = "computer:alpha:heartbeat";
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {R"("cluster": "red")", R"("cluster": "evil")"},
           {R"("cluster": "red", )", ""},
           {"12:34:56.789012", "12:34:57.789012"},
           {R"("last_seen")", R"("state": "stopping", "last_seen")"}}) {
    EXPECT_EQ(Refusal(key, Replace(std::string(kAlphaSignedBeat), from, to),
                      absl::StatusCode::kUnauthenticated),
              "heartbeat: signature: does not verify against public_key (forged or altered)")
        << from;
  }
  // The name, with a key to match.
  EXPECT_EQ(Refusal("computer:alphb:heartbeat",
                    Replace(std::string(kAlphaSignedBeat), R"("alpha")", R"("alphb")"),
                    absl::StatusCode::kUnauthenticated),
            "heartbeat: signature: does not verify against public_key (forged or altered)");
}

TEST(HeartbeatTest, RefusesAnotherKeyClaimingTheSignature) {
  // beta's key and fingerprint with alpha's signature: the signature covers
  // the key, and beta's key did not make it.
  auto beta = testing::BetaKey();
  std::string forged =
      Replace(std::string(kAlphaSignedBeat),
              "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", beta->public_key().Base64());
  forged = Replace(forged, testing::kAlphaFingerprint, testing::kBetaFingerprint);
  EXPECT_EQ(Refusal("computer:alpha:heartbeat", forged, absl::StatusCode::kUnauthenticated),
            "heartbeat: signature: does not verify against public_key (forged or altered)");
  // beta signing alpha's name verifies: whether beta's key is alpha's is
  // the pin's question, the caller's.
  auto signed_by_beta =
      DecodeSignedHeartbeat("computer:alpha:heartbeat", EncodeSignedHeartbeat(kAlphaBeat, *beta));
  ASSERT_TRUE(signed_by_beta.ok()) << signed_by_beta.status();
  EXPECT_EQ(signed_by_beta->signer->public_key, beta->public_key());
}

TEST(HeartbeatTest, RefusesMalformedIdentityFieldsNamingThem) {
  const std::string key = "computer:alpha:heartbeat";
  const std::string beat(kAlphaSignedBeat);
  EXPECT_EQ(Refusal(key, Replace(beat, testing::kAlphaFingerprint, testing::kBetaFingerprint)),
            "heartbeat: fingerprint: kciz-b54e-drls-46ep-mdar-7bze-bwar-mawn is not the "
            "fingerprint of public_key (x2dz-vsp7-rjue-4zt6-ckvj-yoyq-vqbr-766f)");
  EXPECT_EQ(
      Refusal(key,
              Replace(beat, R"("fingerprint": "x2dz-vsp7-rjue-4zt6-ckvj-yoyq-vqbr-766f", )", "")),
      "heartbeat: fingerprint: missing; a signed heartbeat carries public_key, fingerprint "
      "and signature");
  EXPECT_TRUE(absl::StartsWith(
      Refusal(key, Replace(beat, "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "11qY")),
      "heartbeat: public_key: expected an Ed25519 public key (base64 of 32 bytes"));
  EXPECT_EQ(
      Refusal(key, Replace(beat, R"("public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")",
                           R"("public_key": 5)")),
      "heartbeat: public_key: not a string");
  EXPECT_TRUE(
      absl::StartsWith(Refusal(key, Replace(beat, "\"v1:", "\"v2:")),
                       "heartbeat: signature: version \"v2\" is not one this computer reads"));
  EXPECT_EQ(Refusal(key, Replace(beat, "2025-03-01T12:34:56.789012+00:00", "yesterday")),
            "heartbeat: last_seen: not a date-time (Invalid isoformat string): \"yesterday\"");
}

TEST(HeartbeatTest, RefusesInvalidNamesAndOversizeValues) {
  // Issue 15: any printable name up to 255 bytes (common/mesh/peer_name.h).
  auto ok =
      DecodeSignedHeartbeat("computer:py C:heartbeat",
                            R"({"computer_name": "py C", "last_seen": "t", "cluster": "a:b"})");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->heartbeat.cluster, "a:b");
  EXPECT_EQ(Refusal("computer:alpha:heartbeat",
                    R"({"computer_name": "alpha", "last_seen": "t", "cluster": "a\u0007"})"),
            "heartbeat: cluster: \"a\\x07\" contains a control character or line break");
  EXPECT_EQ(Refusal("computer:alpha:heartbeat", R"({"computer_name": "alpha", "last_seen": ")" +
                                                    std::string(kMaxHeartbeatBytes, 'x') + "\"}"),
            "heartbeat: 4139 bytes, more than 4096");
}

}  // namespace
}  // namespace teleclaude::mesh
