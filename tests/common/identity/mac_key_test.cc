#include "common/identity/mac_key.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/common/identity/test_keys.h"

namespace teleclaude::mesh {
namespace {

MacKey::Key KeyOf(std::string_view hex) {
  const std::string raw = testing::FromHex(hex);
  MacKey::Key k{};
  std::copy(raw.begin(), raw.end(), k.begin());
  return k;
}

// K(alpha -> beta) of the test keys (pair_key_cache_test.cc).
constexpr std::string_view kAlphaToBeta =
    "ad286d841f6627cea4aaae970510bd59b17d258810262d15774b9d2ca804d652";

TEST(MacKeyTest, IsKeyedBlake2bOfTheTranscript) {
  // From Python: hashlib.blake2b(transcript, key=K, digest_size=32).
  const MacKey key(KeyOf(kAlphaToBeta));
  const MacKey::Tag tag = key.Compute(
      "teleclaude-mesh message v1",
      {"alpha", "messages:beta", "alpha/local:s:1-0/beta", "1740832496789", R"({"event":"x"})"});
  EXPECT_EQ(MacKey::TagToWire(tag), "v1:TXOKAynJ1xw/VVLUVh0Jk0LDgFhOcs2swNsLvkSKH1c=");
}

TEST(MacKeyTest, VerifiesOnlyTheSameFieldsUnderTheSameKey) {
  const MacKey key(KeyOf(kAlphaToBeta));
  MacKey::Key other_bytes = KeyOf(kAlphaToBeta);
  other_bytes[0] ^= 1;
  const MacKey other(other_bytes);
  const MacKey::Tag tag = key.Compute("d", {"a", "b"});
  EXPECT_TRUE(key.Verify("d", {"a", "b"}, tag));
  EXPECT_FALSE(key.Verify("d", {"a", "c"}, tag));
  EXPECT_FALSE(key.Verify("d", {"ab", ""}, tag));
  EXPECT_FALSE(key.Verify("e", {"a", "b"}, tag));
  EXPECT_FALSE(other.Verify("d", {"a", "b"}, tag));
  MacKey::Tag flipped = tag;
  flipped[31] ^= 0x80;
  EXPECT_FALSE(key.Verify("d", {"a", "b"}, flipped));
}

TEST(MacKeyTest, CopiesComputeTheSameTags) {
  const MacKey key(KeyOf(kAlphaToBeta));
  const MacKey copy = key;
  EXPECT_EQ(copy.Compute("d", {"x"}), key.Compute("d", {"x"}));
  // Computing does not change the key's state.
  EXPECT_EQ(key.Compute("d", {"x"}), key.Compute("d", {"x"}));
}

TEST(MacKeyTest, TagWireFormRoundTripsAndAppends) {
  const MacKey::Tag tag = MacKey(KeyOf(kAlphaToBeta)).Compute("d", {});
  std::string out = "prefix";
  MacKey::AppendTagWire(tag, &out);
  EXPECT_EQ(out, "prefix" + MacKey::TagToWire(tag));
  EXPECT_EQ(MacKey::TagToWire(tag).size(), 47u);
  auto back = MacKey::TagFromWire("auth", MacKey::TagToWire(tag));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, tag);
  for (std::string bad : {std::string("v1:"), std::string("v1:AAAA"), MacKey::TagToWire(tag) + "A",
                          MacKey::TagToWire(tag).substr(3)}) {
    auto parsed = MacKey::TagFromWire("auth", bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_TRUE(absl::StartsWith(parsed.status().message(), "auth: expected")) << parsed.status();
  }
}

}  // namespace
}  // namespace teleclaude::mesh
