#include "common/mesh/mesh_message.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "common/identity/pair_key_cache.h"
#include "common/identity/transcript.h"
#include "gtest/gtest.h"
#include "tests/common/identity/test_keys.h"

namespace teleclaude::mesh {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

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

// Authenticated messages (doc/security.md "Authenticated mesh message").

constexpr std::string_view kEnvelope = R"({"event":"x"})";
constexpr std::string_view kMessageId = "alpha/local:s:1-0/beta";
constexpr int64_t kSentAt = 1740832496789;

class AuthenticatedMeshMessageTest : public ::testing::Test {
 protected:
  AuthenticatedMeshMessageTest()
      : alpha_(testing::AlphaKey()),
        beta_(testing::BetaKey()),
        alpha_keys_(*DerivePairKeys(*alpha_, "alpha", "beta", beta_->public_key())),
        beta_keys_(*DerivePairKeys(*beta_, "beta", "alpha", alpha_->public_key())) {}

  Fields Sent() const {
    return EncodeAuthenticatedMeshMessage(alpha_keys_.send, "messages:beta", kEnvelope, "alpha",
                                          kMessageId, kSentAt);
  }
  // What beta's ingress would conclude about `fields` read from messages:beta.
  absl::Status Receive(const Fields& fields, std::string_view stream = "messages:beta") const {
    MeshMessage m = ParseMeshMessage(fields);
    absl::StatusOr<std::optional<MeshMessageAuth>> auth = DecodeMeshMessageAuth(m);
    if (!auth.ok()) return auth.status();
    if (!auth->has_value()) return absl::NotFoundError("unauthenticated");
    return VerifyMeshMessageAuth(beta_keys_.receive, stream, m, **auth);
  }
  static Fields With(Fields fields, std::string_view name, std::string value) {
    for (auto& [k, v] : fields) {
      if (k == name) v = std::move(value);
    }
    return fields;
  }
  static Fields Without(Fields fields, std::string_view name) {
    std::erase_if(fields, [&](const auto& f) { return f.first == name; });
    return fields;
  }

  std::unique_ptr<IdentityKey> alpha_, beta_;
  PairKeys alpha_keys_, beta_keys_;
};

TEST_F(AuthenticatedMeshMessageTest, AddsSentAtAndAuthAfterTheFieldsPythonReads) {
  const Fields fields = Sent();
  ASSERT_EQ(fields.size(), 6u);
  EXPECT_EQ(fields[0], (std::pair<std::string, std::string>{"type", "mesh_event"}));
  EXPECT_EQ(fields[1], (std::pair<std::string, std::string>{"payload", std::string(kEnvelope)}));
  EXPECT_EQ(fields[2], (std::pair<std::string, std::string>{"source_computer", "alpha"}));
  EXPECT_EQ(fields[3],
            (std::pair<std::string, std::string>{"message_id", std::string(kMessageId)}));
  EXPECT_EQ(fields[4], (std::pair<std::string, std::string>{"sent_at", "1740832496789"}));
  EXPECT_EQ(fields[5].first, "auth");
  EXPECT_TRUE(absl::StartsWith(fields[5].second, "v1:")) << fields[5].second;
  EXPECT_EQ(fields[5].second.size(), 3u + 56u);
}

TEST_F(AuthenticatedMeshMessageTest, VerifiesTheDocumentedConstruction) {
  // From Python (`cryptography`), nonce 00 01 .. 17: XChaCha20-Poly1305 with
  // K(alpha->beta), empty plaintext, the transcript as associated data.
  EXPECT_TRUE(
      Receive(With(Sent(), "auth", "v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXAHhULTP+Y9JVfZcc6UI25w=="))
          .ok());
}

TEST_F(AuthenticatedMeshMessageTest, TheRecipientVerifiesIt) {
  EXPECT_TRUE(Receive(Sent()).ok()) << Receive(Sent());
  auto auth = DecodeMeshMessageAuth(ParseMeshMessage(Sent()));
  ASSERT_TRUE(auth.ok() && auth->has_value());
  EXPECT_EQ((*auth)->sent_at_ms, kSentAt);
}

TEST_F(AuthenticatedMeshMessageTest, AuthBytesAreTheDocumentedTranscript) {
  EXPECT_EQ(MeshMessageAuthBytes("alpha", "messages:beta", kMessageId, "1740832496789", kEnvelope),
            TranscriptBytes("teleclaude-mesh message v1",
                            {"alpha", "messages:beta", kMessageId, "1740832496789", kEnvelope}));
}

TEST_F(AuthenticatedMeshMessageTest, RefusesEveryAlteration) {
  const std::string expected =
      "auth: does not verify with the pair key of \"alpha\" (forged, altered, or written to "
      "another stream)";
  // A tampered payload, a pre-empted or changed message id, a changed send
  // time (the replay window), and a message moved to another stream.
  for (const Fields& altered : {With(Sent(), "payload", R"({"event":"y"})"),
                                With(Sent(), "payload", std::string(kEnvelope) + " "),
                                With(Sent(), "message_id", "alpha/local:s:2-0/beta"),
                                With(Sent(), "sent_at", "1740832496790")}) {
    absl::Status s = Receive(altered);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << s;
    EXPECT_EQ(s.message(), expected);
  }
  absl::Status moved = Receive(Sent(), "messages:gamma");
  EXPECT_EQ(moved.code(), absl::StatusCode::kUnauthenticated) << moved;
}

TEST_F(AuthenticatedMeshMessageTest, RefusesAForgedSenderAndAReflection) {
  // Issue 14: an attacker XADDs to messages:beta with source_computer alpha.
  // Without alpha's or beta's secret key it has no K(alpha->beta); the best
  // it can do is a key of its own.
  auto mallory = IdentityKey::Generate();
  auto mallory_keys = DerivePairKeys(*mallory, "alpha", "beta", beta_->public_key());
  ASSERT_TRUE(mallory_keys.ok());
  const Fields forged = EncodeAuthenticatedMeshMessage(mallory_keys->send, "messages:beta",
                                                       kEnvelope, "alpha", kMessageId, kSentAt);
  EXPECT_EQ(Receive(forged).code(), absl::StatusCode::kUnauthenticated);
  // beta's own message to alpha, written back into beta's stream as if from
  // alpha: the directions have different keys.
  const Fields reflected = EncodeAuthenticatedMeshMessage(beta_keys_.send, "messages:beta",
                                                          kEnvelope, "alpha", kMessageId, kSentAt);
  EXPECT_EQ(Receive(reflected).code(), absl::StatusCode::kUnauthenticated);
  // The same valid fields claiming another sender.
  EXPECT_EQ(Receive(With(Sent(), "source_computer", "gamma")).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthenticatedMeshMessageTest, MessagesWithoutAuthFieldsAreUnauthenticatedNotErrors) {
  // A Python peer's message: the caller's policy decides.
  auto auth = DecodeMeshMessageAuth(
      ParseMeshMessage(EncodeMeshMessage(kEnvelope, "py", /*message_id=*/"")));
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_FALSE(auth->has_value());
}

TEST_F(AuthenticatedMeshMessageTest, RefusesMalformedAuthFieldsNamingThem) {
  auto error = [](const Fields& fields) {
    auto auth = DecodeMeshMessageAuth(ParseMeshMessage(fields));
    EXPECT_FALSE(auth.ok());
    if (auth.ok()) return std::string();
    EXPECT_EQ(auth.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(auth.status().message());
  };
  EXPECT_EQ(error(Without(Sent(), "auth")), "auth: missing while sent_at is present");
  EXPECT_EQ(error(Without(Sent(), "sent_at")), "sent_at: missing while auth is present");
  EXPECT_EQ(error(Without(Sent(), "message_id")),
            "message_id: missing or empty; an authenticated message carries one");
  for (std::string bad : {"", "-1", "+1", "01", "1.5", " 1", "1e3", "1234567890123456"}) {
    EXPECT_EQ(error(With(Sent(), "sent_at", bad)),
              "sent_at: expected Unix milliseconds (1 to 15 digits, no sign or leading zero), "
              "got \"" +
                  bad + "\"");
  }
  EXPECT_TRUE(absl::StartsWith(error(With(Sent(), "auth", "v1:AAAA")),
                               "auth: expected a message authenticator (base64 of 40 bytes"));
  EXPECT_TRUE(absl::StartsWith(error(With(Sent(), "auth", "v9:AAAA")),
                               "auth: version \"v9\" is not one this computer reads"));
  EXPECT_TRUE(DecodeMeshMessageAuth(ParseMeshMessage(With(Sent(), "sent_at", "0"))).ok());
}

}  // namespace
}  // namespace teleclaude::mesh
