// The membership stage against a real peer cache on a real redis-server: a
// sender that comes up between two refreshes is trusted at once, a sender
// without a heartbeat is still refused, and a flood of those costs at most
// one re-read of the heartbeats per refresh_on_miss_every.
#include <atomic>
#include <memory>

#include "absl/time/clock.h"
#include "common/mesh/heartbeat.h"
#include "common/mesh/peer_cache.h"
#include "gtest/gtest.h"
#include "services/ingress/membership_trust.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using testing::RedisServer;

void PublishHeartbeat(RedisClient* client, const std::string& name, const std::string& cluster) {
  Heartbeat hb;
  hb.computer_name = name;
  hb.cluster = cluster;
  hb.last_seen = "2026-11-27T10:00:00+00:00";
  ASSERT_TRUE(client->Command({"SET", HeartbeatKey(name), EncodeHeartbeat(hb), "EX", "60"}).ok());
}

TEST(MembershipRefreshTest, ASenderThatCameUpSinceTheLastRefreshIsTrustedAtOnce) {
  RedisServer redis;
  auto client = redis.Client();
  RedisClientOptions redis_options = redis.ClientOptions();
  // The background refresh would take an hour: only the re-read on a miss
  // can see the new peer.
  PeerCache peers(PeerCache::Options{redis_options, "beta", "red", absl::Hours(1)});
  peers.Start();
  ASSERT_TRUE(testing::WaitFor(
      [&] { return peers.Snapshot()->refreshed_at() != absl::InfinitePast(); }, absl::Seconds(5)));
  std::atomic<int> reads{0};
  MembershipTrust trust(
      MembershipTrust::Options{TrustMode::kCluster, "red", {}, absl::Milliseconds(200)},
      [&] { return peers.Snapshot(); },
      [&]() -> std::shared_ptr<const PeerSnapshot> {
        ++reads;
        if (!peers.RefreshNow().ok()) return nullptr;
        return peers.Snapshot();
      });

  PublishHeartbeat(client.get(), "alpha", "red");
  EXPECT_EQ(trust.Evaluate(EventEnvelope(), "alpha").outcome, TrustOutcome::kAccept);
  EXPECT_EQ(reads.load(), 1);
  // Known now: no further reads.
  EXPECT_EQ(trust.Evaluate(EventEnvelope(), "alpha").outcome, TrustOutcome::kAccept);
  EXPECT_EQ(reads.load(), 1);

  // A ghost sender (no heartbeat) is refused after a re-read, and 1,000 of
  // its messages in a row cost one read per 200 ms at most.
  absl::SleepFor(absl::Milliseconds(250));
  absl::Time start = absl::Now();
  for (int i = 0; i < 1000; ++i) {
    TrustDecision d = trust.Evaluate(EventEnvelope(), "ghost");
    ASSERT_EQ(d.outcome, TrustOutcome::kReject);
    EXPECT_EQ(d.reason, "untrusted");
  }
  const int expected_max = 2 + static_cast<int>((absl::Now() - start) / absl::Milliseconds(200));
  EXPECT_GE(reads.load(), 2);  // the ghost's first message re-read the heartbeats
  EXPECT_LE(reads.load(), expected_max);

  // Another cluster's computer coming up is still refused after the re-read.
  absl::SleepFor(absl::Milliseconds(250));
  PublishHeartbeat(client.get(), "delta", "blue");
  TrustDecision d = trust.Evaluate(EventEnvelope(), "delta");
  EXPECT_EQ(d.outcome, TrustOutcome::kReject);
  EXPECT_NE(d.detail.find("declares cluster blue"), std::string::npos) << d.detail;
  peers.Stop();
}

}  // namespace
}  // namespace teleclaude::mesh
