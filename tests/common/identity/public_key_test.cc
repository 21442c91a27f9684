#include "common/identity/public_key.h"

#include <string>

#include "absl/strings/match.h"
#include "common/identity/identity_key.h"
#include "gtest/gtest.h"
#include "tests/common/identity/test_keys.h"

namespace teleclaude::mesh {
namespace {

using testing::AlphaKey;
using testing::FromHex;
using testing::ToHex;

PublicKey::Bytes BytesOf(std::string_view hex) {
  const std::string raw = FromHex(hex);
  PublicKey::Bytes b{};
  std::copy(raw.begin(), raw.end(), b.begin());
  return b;
}

TEST(PublicKeyTest, SeedGivesTheRfc8032PublicKeyAndSignature) {
  auto alpha = AlphaKey();
  EXPECT_EQ(ToHex(alpha->public_key().bytes()), testing::kAlphaPublicKeyHex);
  // RFC 8032 §7.1 TEST 1: the empty message.
  EXPECT_EQ(ToHex(alpha->Sign("").bytes()),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc"
            "61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  auto beta = testing::BetaKey();
  EXPECT_EQ(ToHex(beta->public_key().bytes()), testing::kBetaPublicKeyHex);
  // TEST 2: the one-byte message 0x72.
  EXPECT_EQ(ToHex(beta->Sign("\x72").bytes()),
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e45"
            "8f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
}

TEST(PublicKeyTest, X25519FormIsTheBirationalMap) {
  // From Python: X25519 public key of SHA-512(seed)[:32], the secret
  // libsodium's sk_to_curve25519 derives.
  EXPECT_EQ(ToHex(AlphaKey()->public_key().x25519()),
            "d85e07ec22b0ad881537c2f44d662d1a143cf830c57aca4305d85c7a90f6b62e");
}

TEST(PublicKeyTest, VerifiesOnlyTheSignedMessageWithTheSignersKey) {
  auto alpha = AlphaKey();
  auto beta = testing::BetaKey();
  const Signature sig = alpha->Sign("hello");
  EXPECT_TRUE(alpha->public_key().Verify("hello", sig));
  EXPECT_FALSE(alpha->public_key().Verify("hellO", sig));
  EXPECT_FALSE(beta->public_key().Verify("hello", sig));
  Signature::Bytes flipped = sig.bytes();
  flipped[10] ^= 1;
  EXPECT_FALSE(alpha->public_key().Verify("hello", Signature(flipped)));
}

TEST(PublicKeyTest, Base64RoundTripsAndIsCanonical) {
  const PublicKey& pk = AlphaKey()->public_key();
  EXPECT_EQ(pk.Base64(), "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  auto back = PublicKey::FromBase64("public_key", pk.Base64());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, pk);
  // 'p' instead of 'o' before '=': the same bytes with non-zero padding bits.
  for (std::string_view bad : {"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURp=",
                               "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                               " 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "", "not base64"}) {
    auto parsed = PublicKey::FromBase64("public_key", bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(parsed.status().message(), "public_key: expected"))
        << parsed.status();
  }
}

TEST(PublicKeyTest, RefusesKeysOfSmallOrder) {
  // The identity point (y = 1) and an all-zero encoding (a point of order 4).
  PublicKey::Bytes identity{};
  identity[0] = 1;
  for (const PublicKey::Bytes& bytes : {identity, PublicKey::Bytes{}}) {
    auto key = PublicKey::FromBytes("public_key", bytes);
    ASSERT_FALSE(key.ok());
    EXPECT_EQ(key.status().message(),
              "public_key: not a usable Ed25519 public key (small order or not on the curve)");
  }
  EXPECT_TRUE(PublicKey::FromBytes("k", BytesOf(testing::kBetaPublicKeyHex)).ok());
}

TEST(PublicKeyTest, SignatureWireFormIsVersioned) {
  const Signature sig = AlphaKey()->Sign("x");
  const std::string wire = sig.ToWire();
  EXPECT_TRUE(absl::StartsWith(wire, "v1:"));
  EXPECT_EQ(wire.size(), 3u + 88u);
  auto back = Signature::FromWire("signature", wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, sig);
  auto v2 = Signature::FromWire("signature", "v2:" + wire.substr(3));
  ASSERT_FALSE(v2.ok());
  EXPECT_EQ(v2.status().message(),
            "signature: version \"v2\" is not one this computer reads (it reads v1); upgrade this "
            "computer");
  auto bare = Signature::FromWire("signature", wire.substr(3));
  ASSERT_FALSE(bare.ok());
  EXPECT_TRUE(absl::StartsWith(bare.status().message(), "signature: expected v1:<"))
      << bare.status();
}

}  // namespace
}  // namespace teleclaude::mesh
