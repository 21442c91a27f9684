#include "common/mesh/peer_cache.h"

#include "common/mesh/heartbeat.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::RedisServer;
using ::teleclaude::mesh::testing::WaitFor;

class PeerCacheTest : public ::testing::Test {
 protected:
  void Beat(const std::string& name, std::optional<std::string> cluster,
            absl::Duration ttl = absl::Seconds(60)) {
    ASSERT_TRUE(client_
                    ->SetEx(HeartbeatKey(name),
                            EncodeHeartbeat({name, "2026-11-27T10:00:00+00:00", cluster}), ttl)
                    .ok());
  }
  std::unique_ptr<PeerCache> Cache(std::string self, std::optional<std::string> cluster) {
    PeerCache::Options o;
    o.redis.endpoint = server_.endpoint();
    o.self_name = std::move(self);
    o.self_cluster = std::move(cluster);
    o.refresh = absl::Milliseconds(50);
    return std::make_unique<PeerCache>(o);
  }
  static std::string Names(const PeerSnapshot& s) {
    std::string out;
    for (const PeerInfo& p : s.peers()) {
      out += p.name + "(" + p.cluster.value_or("-") + (s.IsClusterPeer(p) ? ",cluster-peer" : "") +
             ") ";
    }
    return out;
  }

  RedisServer server_;
  std::unique_ptr<RedisClient> client_ = server_.Client();
};

TEST_F(PeerCacheTest, ListsLivePeersButNeverItself) {
  Beat("a", "x");
  Beat("b", "x");
  Beat("c", std::nullopt);
  Beat("d", "y");
  auto cache = Cache("a", "x");
  ASSERT_TRUE(cache->RefreshNow().ok());
  auto snap = cache->Snapshot();
  EXPECT_EQ(Names(*snap), "b(x,cluster-peer) c(-) d(y) ");
  ASSERT_EQ(snap->ClusterPeers().size(), 1u);
  EXPECT_EQ(snap->ClusterPeers()[0]->name, "b");
  EXPECT_NE(snap->Find("c"), nullptr);
  EXPECT_EQ(snap->Find("a"), nullptr);
}

TEST_F(PeerCacheTest, WithoutAClusterThereAreNoClusterPeers) {
  Beat("b", "x");
  auto cache = Cache("c", std::nullopt);
  ASSERT_TRUE(cache->RefreshNow().ok());
  EXPECT_TRUE(cache->Snapshot()->ClusterPeers().empty());
  EXPECT_EQ(cache->Snapshot()->peers().size(), 1u);
}

TEST_F(PeerCacheTest, SkipsMalformedHeartbeatsAndBadNames) {
  Beat("good", std::nullopt);
  ASSERT_TRUE(client_->SetEx("computer:junk:heartbeat", "not json", absl::Seconds(60)).ok());
  ASSERT_TRUE(client_
                  ->SetEx("computer:bad:heartbeat",
                          R"({"computer_name": "has space", "last_seen": "t"})", absl::Seconds(60))
                  .ok());
  ASSERT_TRUE(client_
                  ->SetEx("computer:star:heartbeat", R"({"computer_name": "a*", "last_seen": "t"})",
                          absl::Seconds(60))
                  .ok());
  auto cache = Cache("me", std::nullopt);
  ASSERT_TRUE(cache->RefreshNow().ok());
  EXPECT_EQ(Names(*cache->Snapshot()), "good(-) ");
}

TEST_F(PeerCacheTest, BackgroundRefreshDropsExpiredPeers) {
  Beat("short", std::nullopt, absl::Seconds(1));
  Beat("long", std::nullopt);
  auto cache = Cache("me", std::nullopt);
  cache->Start();
  ASSERT_TRUE(WaitFor([&] { return cache->Snapshot()->peers().size() == 2; }, absl::Seconds(5)));
  EXPECT_TRUE(
      WaitFor([&] { return cache->Snapshot()->Find("short") == nullptr; }, absl::Seconds(5)));
  EXPECT_NE(cache->Snapshot()->Find("long"), nullptr);
  cache->Stop();
}

TEST_F(PeerCacheTest, KeepsThePreviousSnapshotWhileRedisIsDown) {
  Beat("b", std::nullopt);
  auto cache = Cache("me", std::nullopt);
  ASSERT_TRUE(cache->RefreshNow().ok());
  server_.Stop();
  EXPECT_TRUE(absl::IsUnavailable(cache->RefreshNow()));
  EXPECT_EQ(cache->Snapshot()->peers().size(), 1u);
}

}  // namespace
}  // namespace teleclaude::mesh
