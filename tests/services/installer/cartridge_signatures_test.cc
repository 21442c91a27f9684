// CartridgeSignatures: signing this computer's cartridges and checking a
// received one's author signature against the key pinned for its author in a
// real membership.db (doc/security.md §10.5).
#include "services/installer/cartridge_signatures.h"

#include <filesystem>
#include <memory>
#include <string>

#include "common/json/json_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/services/installer/installer_fixtures.h"
#include "tests/support/membership_pins.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::AliceKey;
using ::teleclaude::mesh::testing::kCleanLua;
using ::teleclaude::mesh::testing::PublishedPayload;
using ::teleclaude::mesh::testing::SignedPayload;
using ::teleclaude::mesh::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int64_t kMaxBytes = 1 << 20;

class CartridgeSignaturesTest : public ::testing::Test {
 protected:
  std::filesystem::path membership_db() const { return dir_.path() / "membership.db"; }

  CartridgeSignatures Signatures() {
    return CartridgeSignatures({.computer_name = "me",
                                .membership_db_path = membership_db().string(),
                                .max_cartridge_bytes = kMaxBytes},
                               my_key_);
  }

  // The outcome for `payload` as the installer computes it.
  SignatureCheck Check(const std::string& payload) {
    absl::StatusOr<CartridgeCandidate> c = ParseCartridgePayload(payload, kMaxBytes, "peer-b");
    EXPECT_TRUE(c.ok()) << c.status();
    if (!c.ok()) return {};
    return Signatures().Check(*c);
  }

  void PinAlice(bool fingerprint_only = false) {
    ASSERT_TRUE(
        testing::PinPeerKey(membership_db(), "alice", AliceKey().public_key(), fingerprint_only)
            .ok());
  }

  TempDir dir_;
  std::shared_ptr<const IdentityKey> my_key_ = IdentityKey::Generate();
};

TEST_F(CartridgeSignaturesTest, OwnCartridgeSignedHereVerifiesAgainstItsOwnKey) {
  absl::StatusOr<std::string> signed_payload =
      Signatures().Sign(PublishedPayload("ping", kCleanLua, "1.0.0", "me"));
  ASSERT_TRUE(signed_payload.ok()) << signed_payload.status();
  EXPECT_EQ(json::GetMemberString(*signed_payload, "author_key"), my_key_->public_key().Base64());
  EXPECT_THAT(json::GetMemberString(*signed_payload, "author_signature").value_or(""),
              StartsWith("v1:"));
  // No membership.db at all: this computer's own key is enough.
  SignatureCheck check = Check(*signed_payload);
  EXPECT_EQ(check.status, SignatureStatus::kVerified) << check.message;
  EXPECT_EQ(check.author_fingerprint, my_key_->fingerprint().ToString());
  EXPECT_THAT(check.message, HasSubstr("this computer's own key"));
}

TEST_F(CartridgeSignaturesTest, SignRefusesAnotherAuthorAndAnInvalidPayload) {
  absl::StatusOr<std::string> other = Signatures().Sign(PublishedPayload("ping", kCleanLua));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(other.status().message()),
              StartsWith("author: \"alice\" is not this computer (me)"));
  absl::StatusOr<std::string> invalid =
      Signatures().Sign(PublishedPayload("../x", kCleanLua, "1", "me"));
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PayloadErrorField(invalid.status()), "name");
  CartridgeSignatures keyless({.computer_name = "me",
                               .membership_db_path = membership_db().string(),
                               .max_cartridge_bytes = kMaxBytes},
                              nullptr);
  EXPECT_EQ(keyless.Sign(PublishedPayload("ping", kCleanLua, "1", "me")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CartridgeSignaturesTest, PinnedAuthorVerifies) {
  PinAlice();
  SignatureCheck check = Check(SignedPayload("ping", kCleanLua));
  EXPECT_EQ(check.status, SignatureStatus::kVerified) << check.message;
  EXPECT_THAT(check.message, HasSubstr("the key pinned for it"));
}

TEST_F(CartridgeSignaturesTest, AnotherKeyClaimingThePinnedAuthorIsKeyMismatch) {
  PinAlice();
  auto mallory = IdentityKey::Generate();
  SignatureCheck check = Check(SignedPayload("ping", kCleanLua, "1.0.0", "alice", *mallory));
  EXPECT_EQ(check.status, SignatureStatus::kKeyMismatch);
  EXPECT_THAT(check.message, StartsWith("author_key: "));
  EXPECT_EQ(check.author_fingerprint, mallory->fingerprint().ToString());
}

TEST_F(CartridgeSignaturesTest, ChangedFieldAfterSigningIsBadSignature) {
  PinAlice();
  const std::string signed_payload = SignedPayload("ping", kCleanLua);
  for (const auto& [member, value] :
       {std::pair<std::string, std::string>{"description", "\"harmless, trust me\""},
        {"event_type", "\"*\""},
        {"version", "\"1.0.1\""},
        {"code", json::Quote("ZnVuY3Rpb24gcHJvY2VzcyhlKSByZXR1cm4gZSBlbmQK")}}) {
    absl::StatusOr<std::string> tampered = json::SetMember(signed_payload, member, value);
    ASSERT_TRUE(tampered.ok());
    SignatureCheck check = Check(*tampered);
    EXPECT_EQ(check.status, SignatureStatus::kBadSignature) << member;
    EXPECT_THAT(check.message, StartsWith("author_signature: does not verify")) << member;
  }
}

TEST_F(CartridgeSignaturesTest, UnsignedAndUnknownAuthorsAreNotVerified) {
  EXPECT_EQ(Check(PublishedPayload("ping", kCleanLua)).status, SignatureStatus::kUnsigned);
  // No membership.db yet (ingress not started): unknown, with the reason.
  SignatureCheck no_db = Check(SignedPayload("ping", kCleanLua));
  EXPECT_EQ(no_db.status, SignatureStatus::kUnknownAuthor);
  EXPECT_THAT(no_db.message, HasSubstr("does not exist yet"));
  // A membership.db that does not know bob.
  PinAlice();
  auto bob = IdentityKey::Generate();
  SignatureCheck unknown = Check(SignedPayload("ping", kCleanLua, "1.0.0", "bob", *bob));
  EXPECT_EQ(unknown.status, SignatureStatus::kUnknownAuthor);
  EXPECT_THAT(unknown.message, HasSubstr("no key is pinned for author \"bob\""));
}

TEST_F(CartridgeSignaturesTest, ProvisionedFingerprintAloneVerifiesOnlyThatKey) {
  PinAlice(/*fingerprint_only=*/true);
  EXPECT_EQ(Check(SignedPayload("ping", kCleanLua)).status, SignatureStatus::kVerified);
  auto mallory = IdentityKey::Generate();
  EXPECT_EQ(Check(SignedPayload("ping", kCleanLua, "1.0.0", "alice", *mallory)).status,
            SignatureStatus::kKeyMismatch);
}

TEST_F(CartridgeSignaturesTest, MalformedSignatureMembersAreRefusedNamingTheField) {
  const std::string signed_payload = SignedPayload("ping", kCleanLua);
  struct Case {
    std::string member, value, field;
  };
  for (const Case& c : std::vector<Case>{
           {"author_key", "17", "author_key"},
           {"author_key", json::Quote(std::string(300, 'A')), "author_key"},
           {"author_key", "\"bm90IGEga2V5\"", "author_key"},
           {"author_signature", "[]", "author_signature"},
           {"author_signature", "\"v2:AAAA\"", "author_signature"},
       }) {
    absl::StatusOr<std::string> bad = json::SetMember(signed_payload, c.member, c.value);
    ASSERT_TRUE(bad.ok());
    absl::StatusOr<CartridgeCandidate> parsed = ParseCartridgePayload(*bad, kMaxBytes, "x");
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << c.value;
    EXPECT_EQ(PayloadErrorField(parsed.status()), c.field) << parsed.status();
  }
  // One member without the other.
  absl::StatusOr<std::string> half = json::SetMember(signed_payload, "author_signature", "null");
  ASSERT_TRUE(half.ok());
  EXPECT_EQ(PayloadErrorField(ParseCartridgePayload(*half, kMaxBytes, "x").status()),
            "author_signature");
}

}  // namespace
}  // namespace teleclaude::mesh
