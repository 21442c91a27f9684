#include "common/identity/mac_key.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <set>

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

MacKey::Tag Parse(std::string_view wire) {
  auto tag = MacKey::TagFromWire("auth", wire);
  EXPECT_TRUE(tag.ok()) << tag.status();
  return tag.ok() ? *tag : MacKey::Tag{};
}

TEST(MacKeyTest, VerifiesTheDocumentedConstruction) {
  // From Python (`cryptography`: HChaCha20 from OpenSSL's ChaCha20 block,
  // then ChaCha20-Poly1305), nonce 00 01 .. 17, empty plaintext, the
  // transcript as associated data.
  const MacKey key(KeyOf(kAlphaToBeta));
  const MacKey::Tag python = Parse("v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXAHhULTP+Y9JVfZcc6UI25w==");
  EXPECT_TRUE(key.Verify(
      "teleclaude-mesh message v1",
      {"alpha", "messages:beta", "alpha/local:s:1-0/beta", "1740832496789", R"({"event":"x"})"},
      python));
  EXPECT_TRUE(key.Verify("d", {"a", "b"},
                         Parse("v1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXPYrOZivN1ngjEte3R18qdg==")));
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
  for (size_t byte : {size_t{0}, size_t{23}, size_t{24}, MacKey::kTagBytes - 1}) {
    MacKey::Tag flipped = tag;
    flipped[byte] ^= 0x80;  // the nonce or the Poly1305 tag
    EXPECT_FALSE(key.Verify("d", {"a", "b"}, flipped)) << byte;
  }
}

TEST(MacKeyTest, EveryTagHasItsOwnNonce) {
  const MacKey key(KeyOf(kAlphaToBeta));
  const MacKey copy = key;
  std::set<std::string> nonces;
  for (int i = 0; i < 100; ++i) {
    for (const MacKey* k : {&key, &copy}) {
      const MacKey::Tag tag = k->Compute("d", {"x"});
      EXPECT_TRUE(key.Verify("d", {"x"}, tag));
      nonces.insert(std::string(tag.begin(), tag.begin() + MacKey::kNonceBytes));
    }
  }
  EXPECT_EQ(nonces.size(), 200u);
}

// A forked child must not continue the parent's nonce sequence: it would
// repeat the parent's next nonces under the same pair keys.
TEST(MacKeyTest, AForkedChildDrawsItsOwnNoncePrefix) {
  const MacKey key(KeyOf(kAlphaToBeta));
  const MacKey::Tag before = key.Compute("d", {"x"});
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const MacKey::Tag child = key.Compute("d", {"x"});
    (void)!write(out[1], child.data(), MacKey::kNonceBytes);
    _exit(0);
  }
  close(out[1]);
  uint8_t child_nonce[MacKey::kNonceBytes];
  size_t got = 0;
  ssize_t n;
  while (got < sizeof(child_nonce) &&
         (n = read(out[0], child_nonce + got, sizeof(child_nonce) - got)) > 0) {
    got += static_cast<size_t>(n);
  }
  close(out[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_EQ(got, sizeof(child_nonce));
  const MacKey::Tag after = key.Compute("d", {"x"});
  // The parent keeps its prefix; the child's differs from it.
  EXPECT_TRUE(std::equal(before.begin(), before.begin() + 16, after.begin()));
  EXPECT_FALSE(std::equal(before.begin(), before.begin() + 16, child_nonce));
}

TEST(MacKeyTest, TagWireFormRoundTripsAndAppends) {
  const MacKey::Tag tag = MacKey(KeyOf(kAlphaToBeta)).Compute("d", {});
  std::string out = "prefix";
  MacKey::AppendTagWire(tag, &out);
  EXPECT_EQ(out, "prefix" + MacKey::TagToWire(tag));
  EXPECT_EQ(MacKey::TagToWire(tag).size(), 3u + 56u);
  EXPECT_EQ(Parse(MacKey::TagToWire(tag)), tag);
  for (std::string bad : {std::string("v1:"), std::string("v1:AAAA"), MacKey::TagToWire(tag) + "A",
                          MacKey::TagToWire(tag).substr(3)}) {
    auto parsed = MacKey::TagFromWire("auth", bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_TRUE(absl::StartsWith(parsed.status().message(), "auth: expected")) << parsed.status();
  }
}

}  // namespace
}  // namespace teleclaude::mesh
