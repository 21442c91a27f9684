// The heartbeat on a real redis-server: value, TTL, refresh, DEL on Stop,
// and Redis going away and coming back.
#include "services/ingress/heartbeat_publisher.h"

#include <atomic>

#include "absl/strings/match.h"
#include "common/mesh/heartbeat.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using testing::RedisServer;
using testing::WaitFor;

HeartbeatPublisher::Options Options(const RedisServer& redis, std::optional<std::string> cluster) {
  HeartbeatPublisher::Options o;
  o.redis.endpoint = redis.endpoint();
  o.redis.reconnect_backoff_max = absl::Milliseconds(100);
  o.computer_name = "beta";
  o.cluster = std::move(cluster);
  o.interval = absl::Milliseconds(200);
  o.ttl = absl::Seconds(5);
  return o;
}

TEST(HeartbeatPublisherTest, KeepsTheKeyAliveAndSaysStoppingOnStop) {
  RedisServer redis;
  auto client = redis.Client();
  HeartbeatPublisher publisher(Options(redis, "red"));
  publisher.Start();
  ASSERT_TRUE(WaitFor([&] { return publisher.published() >= 2; }, absl::Seconds(5)));
  auto value = client->Get("computer:beta:heartbeat");
  ASSERT_TRUE(value.ok() && value->has_value()) << value.status();
  auto heartbeat = DecodeHeartbeat(**value);
  ASSERT_TRUE(heartbeat.ok()) << heartbeat.status();
  EXPECT_EQ(heartbeat->computer_name, "beta");
  EXPECT_EQ(heartbeat->cluster, "red");
  EXPECT_TRUE(absl::EndsWith(heartbeat->last_seen, "+00:00")) << heartbeat->last_seen;
  EXPECT_EQ(**value, EncodeHeartbeat(*heartbeat));  // TeleClaude's exact text
  auto ttl = client->Command({"PTTL", "computer:beta:heartbeat"});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer(), 4000);
  EXPECT_LE(ttl->integer(), 5000);

  // A clean stop leaves a last heartbeat saying so (peers keep us as away),
  // with the same TTL.
  publisher.Stop();
  auto last = client->Get("computer:beta:heartbeat");
  ASSERT_TRUE(last.ok() && last->has_value()) << last.status();
  auto stopping = DecodeHeartbeat(**last);
  ASSERT_TRUE(stopping.ok()) << stopping.status();
  EXPECT_EQ(stopping->state, HeartbeatState::kStopping);
  EXPECT_EQ(stopping->cluster, "red");
  ttl = client->Command({"PTTL", "computer:beta:heartbeat"});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer(), 4000);
}

TEST(HeartbeatPublisherTest, AStopBeforeTheFirstHeartbeatWritesNothing) {
  RedisServer redis;
  auto client = redis.Client();
  HeartbeatPublisher::Options options = Options(redis, "red");
  options.ready = [] { return false; };
  HeartbeatPublisher publisher(options);
  publisher.Start();
  publisher.Stop();
  auto value = client->Get("computer:beta:heartbeat");
  ASSERT_TRUE(value.ok());
  EXPECT_FALSE(value->has_value());
}

TEST(HeartbeatPublisherTest, OmitsClusterWhenNone) {
  RedisServer redis;
  auto client = redis.Client();
  HeartbeatPublisher publisher(Options(redis, std::nullopt));
  publisher.Start();
  ASSERT_TRUE(WaitFor([&] { return publisher.published() >= 1; }, absl::Seconds(5)));
  auto value = client->Get("computer:beta:heartbeat");
  ASSERT_TRUE(value.ok() && value->has_value());
  EXPECT_EQ((*value)->find("cluster"), std::string::npos) << **value;
}

TEST(HeartbeatPublisherTest, WaitsUntilReadyAndSurvivesRedisRestart) {
  RedisServer redis;
  auto client = redis.Client();
  std::atomic<bool> ready{false};
  HeartbeatPublisher::Options options = Options(redis, "red");
  options.ready = [&] { return ready.load(); };
  HeartbeatPublisher publisher(options);
  publisher.Start();
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(publisher.published(), 0);
  ready = true;
  ASSERT_TRUE(WaitFor([&] { return publisher.published() >= 1; }, absl::Seconds(5)));

  redis.Stop();
  absl::SleepFor(absl::Milliseconds(500));  // some intervals fail
  redis.Restart();                          // empty again (no persistence)
  auto fresh = redis.Client();
  EXPECT_TRUE(WaitFor(
      [&] {
        auto v = fresh->Get("computer:beta:heartbeat");
        return v.ok() && v->has_value();
      },
      absl::Seconds(5)));
}

}  // namespace
}  // namespace teleclaude::mesh
