#include "common/mesh/cartridge_signature.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/common/identity/test_keys.h"

namespace teleclaude::mesh {
namespace {

// SHA-256 of "return function(e) return e end\n".
constexpr std::string_view kCodeSha256 =
    "24d53b1d9c331fa60ac4ea1af52e845717115548ee739a915cbdba25a0fc3645";

CartridgeStatement Noop() {
  CartridgeStatement s;
  s.author = "alpha";
  s.name = "noop";
  s.version = "1.0.0";
  s.runtime = "lua";
  s.entry_point = "process";
  s.event_type = "system.x";
  s.description = "does nothing";
  s.dependencies = {"json", "re"};
  s.code_sha256 = std::string(kCodeSha256);
  return s;
}

TEST(CartridgeSignatureTest, SignatureIsTheDocumentedOne) {
  // Computed with Python (`cryptography` Ed25519 over the transcript).
  auto sig = SignCartridge(Noop(), *testing::AlphaKey());
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(AuthorKeyValue(*sig), "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  EXPECT_EQ(AuthorSignatureValue(*sig),
            "v1:0PMD02W/mgnfXux0KdtgshKXSysqRlOfK63209IYS5L0oP+lucTQWGeBHSbHQHOCykPy6Zph8XJBqOi/"
            "E5xlAw==");
}

TEST(CartridgeSignatureTest, RelayedSignatureVerifiesAgainstTheAuthorsPinnedKey) {
  auto alpha = testing::AlphaKey();
  auto sig = SignCartridge(Noop(), *alpha);
  ASSERT_TRUE(sig.ok());
  // What a receiver (any hop away) decodes from the payload members.
  auto decoded = DecodeCartridgeSignature(AuthorKeyValue(*sig), AuthorSignatureValue(*sig));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_TRUE(decoded->has_value());
  EXPECT_TRUE(VerifyCartridgeSignature(Noop(), **decoded, alpha->public_key()).ok());
}

TEST(CartridgeSignatureTest, RefusesEveryAlteredField) {
  auto alpha = testing::AlphaKey();
  auto sig = SignCartridge(Noop(), *alpha);
  ASSERT_TRUE(sig.ok());
  std::vector<CartridgeStatement> altered(11, Noop());
  altered[0].author = "beta";
  altered[1].name = "noop2";
  altered[2].version = "1.0.1";
  altered[3].runtime = "python";
  altered[4].entry_point = "run";
  altered[5].event_type = "system.y";
  altered[6].description = "harmless, really";
  altered[7].dependencies = {"json"};
  altered[8].dependencies = {"jsonre"};
  altered[9].code_sha256[0] = '3';
  altered[10].dependencies = {"js", "onre"};
  for (size_t i = 0; i < altered.size(); ++i) {
    absl::Status s = VerifyCartridgeSignature(altered[i], *sig, alpha->public_key());
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << i << ": " << s;
    EXPECT_EQ(s.message(),
              "author_signature: does not verify against author_key (a field, the code or the "
              "author was altered after signing)");
  }
}

TEST(CartridgeSignatureTest, RefusesASignatureByAnotherKeyThanThePinnedOne) {
  // Someone re-signs alpha's cartridge with its own key (a forged author).
  auto mallory = IdentityKey::Generate();
  auto sig = SignCartridge(Noop(), *mallory);
  ASSERT_TRUE(sig.ok());
  absl::Status s = VerifyCartridgeSignature(Noop(), *sig, testing::AlphaKey()->public_key());
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "author_key: " + mallory->fingerprint().ToString() +
                             " is not the key pinned for author \"alpha\" "
                             "(x2dz-vsp7-rjue-4zt6-ckvj-yoyq-vqbr-766f)");
}

TEST(CartridgeSignatureTest, UnsignedCartridgeHasNoSignature) {
  auto decoded = DecodeCartridgeSignature(std::nullopt, std::nullopt);
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(decoded->has_value());
}

TEST(CartridgeSignatureTest, RefusesMalformedMembersNamingThem) {
  auto sig = SignCartridge(Noop(), *testing::AlphaKey());
  ASSERT_TRUE(sig.ok());
  const std::string key = AuthorKeyValue(*sig), signature = AuthorSignatureValue(*sig);
  auto error = [](std::optional<std::string_view> k, std::optional<std::string_view> s) {
    auto decoded = DecodeCartridgeSignature(k, s);
    EXPECT_FALSE(decoded.ok());
    return decoded.ok() ? std::string() : std::string(decoded.status().message());
  };
  EXPECT_EQ(error(key, std::nullopt), "author_signature: missing while author_key is present");
  EXPECT_EQ(error(std::nullopt, signature),
            "author_key: missing while author_signature is present");
  EXPECT_TRUE(
      absl::StartsWith(error("AAAA", signature), "author_key: expected an Ed25519 public key"));
  EXPECT_TRUE(absl::StartsWith(error(key, signature.substr(3)), "author_signature: expected v1:<"));
  // A small-order key: refused before any verification.
  EXPECT_EQ(error("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", signature),
            "author_key: not a usable Ed25519 public key (small order or not on the curve)");
}

TEST(CartridgeSignatureTest, RefusesAMalformedCodeHash) {
  CartridgeStatement s = Noop();
  s.code_sha256 = "24D53B1D9C331FA60AC4EA1AF52E845717115548EE739A915CBDBA25A0FC3645";
  auto sig = SignCartridge(s, *testing::AlphaKey());
  ASSERT_FALSE(sig.ok());
  EXPECT_TRUE(absl::StartsWith(sig.status().message(),
                               "code_sha256: expected 64 lower-case hex digits, got \"24D5"))
      << sig.status();
}

}  // namespace
}  // namespace teleclaude::mesh
