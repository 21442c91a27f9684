#include "common/identity/fingerprint.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/common/identity/test_keys.h"

namespace teleclaude::mesh {
namespace {

TEST(FingerprintTest, IsTheTruncatedSha256InGroupedBase32) {
  // Expected values from Python: hashlib.sha256 of the transcript,
  // base64.b32encode of the first 20 bytes.
  EXPECT_EQ(Fingerprint::Of(testing::AlphaKey()->public_key()).ToString(),
            testing::kAlphaFingerprint);
  EXPECT_EQ(Fingerprint::Of(testing::BetaKey()->public_key()).ToString(),
            testing::kBetaFingerprint);
  EXPECT_EQ(testing::kAlphaFingerprint.size(), Fingerprint::kTextLength);
}

TEST(FingerprintTest, ParsesItsTextInEitherCase) {
  const Fingerprint fp = Fingerprint::Of(testing::AlphaKey()->public_key());
  for (std::string text : {fp.ToString(), absl::AsciiStrToUpper(fp.ToString())}) {
    auto parsed = Fingerprint::Parse("fingerprint", text);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, fp);
  }
}

TEST(FingerprintTest, RefusesAnythingElseNamingTheField) {
  const std::string good(testing::kAlphaFingerprint);
  for (std::string bad : {std::string(), good.substr(1), good + "a",
                          std::string("x2dzvsp7rjue4zt6ckvjyoyqvqbr766f"),              // no dashes
                          std::string("x2dz-vsp7-rjue-4zt6-ckvj-yoyq-vqbr-766") + "1",  // '1'
                          std::string("x2dz_vsp7-rjue-4zt6-ckvj-yoyq-vqbr-766f"),
                          std::string("x2d-zvsp7-rjue-4zt6-ckvj-yoyq-vqbr-766f")}) {
    auto parsed = Fingerprint::Parse("fingerprint", bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_TRUE(absl::StartsWith(parsed.status().message(),
                                 "fingerprint: expected a key fingerprint (8 groups of 4"))
        << parsed.status();
  }
}

TEST(FingerprintTest, DiffersForDifferentKeys) {
  EXPECT_NE(Fingerprint::Of(testing::AlphaKey()->public_key()),
            Fingerprint::Of(testing::BetaKey()->public_key()));
}

}  // namespace
}  // namespace teleclaude::mesh
