// HeartbeatDecodeCache: an unchanged heartbeat is verified once; any other
// bytes under the same key — a tampered value above all — are decoded and
// verified again; the cache stays bounded.
#include "common/mesh/heartbeat_decode_cache.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/common/identity/test_keys.h"

namespace teleclaude::mesh {
namespace {

const std::string kKey = "computer:alpha:heartbeat";

std::string Signed(const std::string& last_seen, const std::string& cluster = "x") {
  return EncodeSignedHeartbeat(Heartbeat{"alpha", last_seen, cluster}, *testing::AlphaKey());
}

// Replaces the first `from` in `value` by `to`.
std::string Replaced(std::string value, const std::string& from, const std::string& to) {
  const size_t at = value.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) value.replace(at, from.size(), to);
  return value;
}

// DecodeSignedHeartbeat's and the cache's answers side by side.
std::string Show(const absl::StatusOr<CheckedHeartbeat>& r) {
  if (!r.ok()) return r.status().ToString();
  return absl::StrCat(r->heartbeat.computer_name, " ", r->heartbeat.cluster.value_or("-"), " ",
                      r->heartbeat.last_seen, " ",
                      r->signer ? r->signer->fingerprint.ToString() : "unsigned");
}

TEST(HeartbeatDecodeCacheTest, VerifiesAnUnchangedHeartbeatOnce) {
  HeartbeatDecodeCache cache;
  const std::string value = Signed("2026-01-01T00:00:00+00:00");
  for (int read = 0; read < 3; ++read) {
    absl::StatusOr<CheckedHeartbeat> got = cache.Decode(kKey, value);
    EXPECT_EQ(Show(got), Show(DecodeSignedHeartbeat(kKey, value)));
    ASSERT_TRUE(got.ok());
    ASSERT_TRUE(got->signer.has_value());
    cache.EndRead();
  }
  EXPECT_EQ(cache.counters().decoded, 1);
  EXPECT_EQ(cache.counters().reused, 2);
}

TEST(HeartbeatDecodeCacheTest, ATamperedHeartbeatIsRefusedAfterAValidOneWasCached) {
  HeartbeatDecodeCache cache;
  const std::string valid = Signed("2026-01-01T00:00:00+00:00");
  ASSERT_TRUE(cache.Decode(kKey, valid).ok());
  ASSERT_TRUE(cache.Decode(kKey, valid).ok());
  // Same name, same signature, another cluster: refused, every time.
  const std::string tampered = Replaced(valid, R"("cluster": "x")", R"("cluster": "y")");
  for (int read = 0; read < 2; ++read) {
    absl::StatusOr<CheckedHeartbeat> got = cache.Decode(kKey, tampered);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kUnauthenticated) << Show(got);
  }
  // A newer last_seen carrying the old signature.
  const std::string replayed_signature =
      Replaced(valid, "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:01+00:00");
  EXPECT_EQ(cache.Decode(kKey, replayed_signature).status().code(),
            absl::StatusCode::kUnauthenticated);
  // The valid bytes are valid again, decoded again.
  EXPECT_EQ(Show(cache.Decode(kKey, valid)), Show(DecodeSignedHeartbeat(kKey, valid)));
  EXPECT_EQ(cache.counters().decoded, 4);
  EXPECT_EQ(cache.counters().reused, 2);
}

TEST(HeartbeatDecodeCacheTest, ANewHeartbeatIsDecoded) {
  HeartbeatDecodeCache cache;
  const std::string first = Signed("2026-01-01T00:00:00+00:00");
  const std::string second = Signed("2026-01-01T00:00:01+00:00", "z");
  ASSERT_TRUE(cache.Decode(kKey, first).ok());
  absl::StatusOr<CheckedHeartbeat> got = cache.Decode(kKey, second);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->heartbeat.cluster, "z");
  EXPECT_EQ(got->heartbeat.last_seen, "2026-01-01T00:00:01+00:00");
  EXPECT_EQ(cache.counters().decoded, 2);
}

TEST(HeartbeatDecodeCacheTest, TheSameValueUnderAnotherKeyIsDecodedForThatKey) {
  HeartbeatDecodeCache cache;
  const std::string value = Signed("2026-01-01T00:00:00+00:00");
  ASSERT_TRUE(cache.Decode(kKey, value).ok());
  // A second key claiming alpha with alpha's own bytes.
  EXPECT_EQ(cache.Decode("computer:alpha0:heartbeat", value).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(cache.Decode(kKey, value).ok());
}

TEST(HeartbeatDecodeCacheTest, AnErrorIsRememberedUntilTheValueChanges) {
  HeartbeatDecodeCache cache;
  const std::string valid = Signed("2026-01-01T00:00:00+00:00");
  const std::string tampered = Replaced(valid, R"("cluster": "x")", R"("cluster": "y")");
  EXPECT_FALSE(cache.Decode(kKey, tampered).ok());
  EXPECT_FALSE(cache.Decode(kKey, tampered).ok());
  EXPECT_EQ(cache.counters().decoded, 1);
  EXPECT_TRUE(cache.Decode(kKey, valid).ok());
  EXPECT_EQ(cache.counters().decoded, 2);
}

TEST(HeartbeatDecodeCacheTest, EndReadForgetsKeysThatWereNotRead) {
  HeartbeatDecodeCache cache;
  const std::string beta_key = "computer:beta:heartbeat";
  const std::string beta = EncodeSignedHeartbeat(
      Heartbeat{"beta", "2026-01-01T00:00:00+00:00", "x"}, *testing::BetaKey());
  const std::string alpha = Signed("2026-01-01T00:00:00+00:00");
  ASSERT_TRUE(cache.Decode(kKey, alpha).ok());
  ASSERT_TRUE(cache.Decode(beta_key, beta).ok());
  cache.EndRead();
  EXPECT_EQ(cache.size(), 2u);
  ASSERT_TRUE(cache.Decode(kKey, alpha).ok());
  cache.EndRead();
  EXPECT_EQ(cache.size(), 1u);
  ASSERT_TRUE(cache.Decode(beta_key, beta).ok());
  EXPECT_EQ(cache.counters().decoded, 3);  // beta's bytes were forgotten
}

TEST(HeartbeatDecodeCacheTest, StaysWithinItsCapacity) {
  HeartbeatDecodeCache cache(2);
  for (int i = 0; i < 5; ++i) {
    const std::string name = absl::StrCat("c", i);
    const std::string value = EncodeSignedHeartbeat(
        Heartbeat{name, "2026-01-01T00:00:00+00:00", "x"}, *testing::AlphaKey());
    EXPECT_TRUE(cache.Decode(HeartbeatKey(name), value).ok());
    EXPECT_TRUE(cache.Decode(HeartbeatKey(name), value).ok());  // the 3 beyond: decoded again
  }
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.counters().decoded, 2 + 3 * 2);
  // Values larger than a heartbeat may be and very long keys are not kept.
  HeartbeatDecodeCache other;
  const std::string big(kMaxHeartbeatBytes + 1, ' ');
  EXPECT_FALSE(other.Decode(kKey, big).ok());
  const std::string long_key = HeartbeatKey(std::string(600, 'n'));
  EXPECT_FALSE(other.Decode(long_key, "{}").ok());
  EXPECT_EQ(other.size(), 0u);
}

}  // namespace
}  // namespace teleclaude::mesh
