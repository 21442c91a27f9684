#include "common/identity/pair_key_cache.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/common/identity/test_keys.h"

namespace teleclaude::mesh {
namespace {

// Expected keys from Python: X25519 of SHA-512(seed)[:32] (cryptography),
// then hashlib.blake2b(transcript, digest_size=32).
constexpr std::string_view kAlphaToBeta =
    "ad286d841f6627cea4aaae970510bd59b17d258810262d15774b9d2ca804d652";
constexpr std::string_view kBetaToAlpha =
    "6f2afe8ffacb748d15738e5e7c303ef6b6689d95468141d69c3d948b8f55b305";

MacKey KeyOf(std::string_view hex) {
  const std::string raw = testing::FromHex(hex);
  MacKey::Key k{};
  std::copy(raw.begin(), raw.end(), k.begin());
  return MacKey(k);
}

TEST(PairKeyCacheTest, DerivesTheDocumentedDirectionalKeys) {
  auto alpha = testing::AlphaKey();
  auto beta = testing::BetaKey();
  auto keys = DerivePairKeys(*alpha, "alpha", "beta", beta->public_key());
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_TRUE(KeyOf(kAlphaToBeta).Verify("d", {"m"}, keys->send.Compute("d", {"m"})));
  EXPECT_TRUE(KeyOf(kBetaToAlpha).Verify("d", {"m"}, keys->receive.Compute("d", {"m"})));
  EXPECT_FALSE(KeyOf(kBetaToAlpha).Verify("d", {"m"}, keys->send.Compute("d", {"m"})));
}

TEST(PairKeyCacheTest, WhatOneSideSendsWithTheOtherReceivesWith) {
  auto alpha = testing::AlphaKey();
  auto beta = testing::BetaKey();
  auto a = DerivePairKeys(*alpha, "alpha", "beta", beta->public_key());
  auto b = DerivePairKeys(*beta, "beta", "alpha", alpha->public_key());
  ASSERT_TRUE(a.ok() && b.ok());
  const MacKey::Tag from_alpha = a->send.Compute("d", {"m"});
  EXPECT_TRUE(b->receive.Verify("d", {"m"}, from_alpha));
  // A message cannot be reflected: the two directions have different keys.
  EXPECT_FALSE(b->send.Verify("d", {"m"}, from_alpha));
  EXPECT_FALSE(a->receive.Verify("d", {"m"}, from_alpha));
}

TEST(PairKeyCacheTest, KeysAreBoundToTheNames) {
  auto alpha = testing::AlphaKey();
  auto beta = testing::BetaKey();
  auto named = DerivePairKeys(*alpha, "alpha", "beta", beta->public_key());
  auto renamed = DerivePairKeys(*alpha, "alpha", "gamma", beta->public_key());
  ASSERT_TRUE(named.ok() && renamed.ok());
  EXPECT_FALSE(renamed->send.Verify("d", {}, named->send.Compute("d", {})));
}

TEST(PairKeyCacheTest, CachesPerPeerAndRederivesWhenTheKeyChanges) {
  auto alpha = testing::AlphaKey();
  auto beta = testing::BetaKey();
  auto rotated = IdentityKey::Generate();
  PairKeyCache cache(alpha.get(), "alpha");
  auto first = cache.Get("beta", beta->public_key());
  auto again = cache.Get("beta", beta->public_key());
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->get(), again->get());
  EXPECT_EQ(cache.derivations(), 1);
  auto after_rotation = cache.Get("beta", rotated->public_key());
  ASSERT_TRUE(after_rotation.ok());
  EXPECT_NE(after_rotation->get(), first->get());
  EXPECT_EQ(cache.derivations(), 2);
  EXPECT_EQ(cache.size(), 1u);
  auto expected = DerivePairKeys(*alpha, "alpha", "beta", rotated->public_key());
  ASSERT_TRUE(expected.ok());
  EXPECT_TRUE(expected->send.Verify("d", {}, (*after_rotation)->send.Compute("d", {})));
  EXPECT_FALSE((*first)->send.Verify("d", {}, (*after_rotation)->send.Compute("d", {})));
}

TEST(PairKeyCacheTest, StaysWithinItsBound) {
  auto alpha = testing::AlphaKey();
  auto peer = IdentityKey::Generate();
  PairKeyCache cache(alpha.get(), "alpha", PairKeyCache::Options{.max_entries = 3});
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(cache.Get("peer" + std::to_string(i), peer->public_key()).ok());
    EXPECT_LE(cache.size(), 3u);
  }
  EXPECT_EQ(cache.derivations(), 10);
}

TEST(PairKeyCacheTest, ConcurrentUsersGetTheSameKeys) {
  auto alpha = testing::AlphaKey();
  auto beta = testing::BetaKey();
  PairKeyCache cache(alpha.get(), "alpha");
  const MacKey expected = KeyOf(kAlphaToBeta);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto keys = cache.Get("beta", beta->public_key());
        if (!keys.ok() || !expected.Verify("d", {"m"}, (*keys)->send.Compute("d", {"m"}))) {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace teleclaude::mesh
