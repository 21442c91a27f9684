// The membership stage against real membership (MembershipWriter on a real
// redis-server and a real membership.db): a sender that comes up between two
// refreshes is trusted at once, a sender never seen is still refused, a
// flood of those costs at most one read of the heartbeats per
// refresh_on_miss_every, and a sender is judged by its record — trusted
// while away, not moved by a second key claiming its name, refused once
// forgotten.
#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "common/identity/identity_key.h"
#include "common/mesh/heartbeat.h"
#include "common/mesh/membership_writer.h"
#include "gtest/gtest.h"
#include "services/ingress/membership_trust.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh {
namespace {

using testing::RedisServer;

// Membership that counts how often it is refreshed (a wrapper around the
// real writer).
class CountingMembership : public MembershipView {
 public:
  explicit CountingMembership(MembershipWriter* writer) : writer_(writer) {}
  std::shared_ptr<const MembershipSnapshot> Snapshot() const override {
    return writer_->Snapshot();
  }
  std::shared_ptr<const MembershipSnapshot> Refresh() override {
    ++refreshes;
    return writer_->Refresh();
  }
  std::atomic<int> refreshes{0};

 private:
  MembershipWriter* const writer_;
};

class MembershipRefreshTest : public ::testing::Test {
 protected:
  MembershipRefreshTest() : client_(redis_.Client()) {
    MembershipWriter::Options o;
    o.redis = redis_.ClientOptions();
    o.db_path = dir_.File("membership.db");
    o.self_name = "beta";
    o.self_cluster = "red";
    // The background refresh would take an hour: only the refresh on a miss
    // (or the test) reads the heartbeats.
    o.refresh = absl::Hours(1);
    auto writer = MembershipWriter::Open(std::move(o));
    EXPECT_TRUE(writer.ok()) << writer.status();
    writer_ = *std::move(writer);
    EXPECT_TRUE(writer_->RefreshNow().ok());
    counting_ = std::make_unique<CountingMembership>(writer_.get());
  }

  // A heartbeat signed by the computer publishing under `key_name` (only a
  // signed heartbeat announces a cluster, doc/security.md §6); each Redis
  // key has its own identity key.
  void Publish(const std::string& key_name, const std::string& name, const std::string& cluster) {
    std::unique_ptr<IdentityKey>& key = keys_[key_name];
    if (!key) key = IdentityKey::Generate();
    Heartbeat hb{name,
                 absl::FormatTime("%Y-%m-%dT%H:%M:%E6S+00:00", absl::Now(), absl::UTCTimeZone()),
                 cluster};
    ASSERT_TRUE(
        client_
            ->Command({"SET", HeartbeatKey(key_name), EncodeSignedHeartbeat(hb, *key), "EX", "60"})
            .ok());
  }

  MembershipTrust Trust(absl::Duration every = absl::Milliseconds(200)) {
    MembershipTrust::Options options;
    options.mode = TrustMode::kCluster;
    options.self_cluster = "red";
    options.refresh_on_miss_every = every;
    return MembershipTrust(options, counting_.get());
  }

  std::map<std::string, std::unique_ptr<IdentityKey>> keys_;
  RedisServer redis_;
  std::unique_ptr<RedisClient> client_;
  testing::TempDir dir_;
  std::unique_ptr<MembershipWriter> writer_;
  std::unique_ptr<CountingMembership> counting_;
};

TEST_F(MembershipRefreshTest, ASenderThatCameUpSinceTheLastRefreshIsTrustedAtOnce) {
  MembershipTrust trust = Trust();
  Publish("alpha", "alpha", "red");
  EXPECT_EQ(trust.Evaluate(EventEnvelope(), "alpha").outcome, TrustOutcome::kAccept);
  EXPECT_EQ(counting_->refreshes.load(), 1);
  // Known now: no further reads.
  EXPECT_EQ(trust.Evaluate(EventEnvelope(), "alpha").outcome, TrustOutcome::kAccept);
  EXPECT_EQ(counting_->refreshes.load(), 1);

  // A ghost sender (no heartbeat) is refused after a refresh, and 1,000 of
  // its messages in a row cost one refresh per 200 ms at most.
  absl::SleepFor(absl::Milliseconds(250));
  absl::Time start = absl::Now();
  for (int i = 0; i < 1000; ++i) {
    TrustDecision d = trust.Evaluate(EventEnvelope(), "ghost");
    ASSERT_EQ(d.outcome, TrustOutcome::kReject);
    EXPECT_EQ(d.reason, "untrusted");
    EXPECT_NE(d.detail.find("ghost is not a known computer"), std::string::npos) << d.detail;
  }
  const int expected_max = 2 + static_cast<int>((absl::Now() - start) / absl::Milliseconds(200));
  EXPECT_GE(counting_->refreshes.load(), 2);  // the ghost's first message refreshed
  EXPECT_LE(counting_->refreshes.load(), expected_max);

  // Another cluster's computer coming up is still refused after the refresh.
  absl::SleepFor(absl::Milliseconds(250));
  Publish("delta", "delta", "blue");
  TrustDecision d = trust.Evaluate(EventEnvelope(), "delta");
  EXPECT_EQ(d.outcome, TrustOutcome::kReject);
  EXPECT_NE(d.detail.find("declares cluster blue"), std::string::npos) << d.detail;
}

TEST_F(MembershipRefreshTest, AClusterPeerWhoseHeartbeatLapsedIsStillTrustedByItsRecord) {
  MembershipTrust trust = Trust();
  Publish("alpha", "alpha", "red");
  ASSERT_TRUE(writer_->RefreshNow().ok());
  ASSERT_TRUE(client_->Del({HeartbeatKey("alpha")}).ok());
  ASSERT_TRUE(writer_->RefreshNow().ok());
  ASSERT_EQ(writer_->Snapshot()->Find("alpha")->state, MemberState::kAway);
  EXPECT_EQ(trust.Evaluate(EventEnvelope(), "alpha").outcome, TrustOutcome::kAccept);
}

TEST_F(MembershipRefreshTest, ASecondKeyClaimingAPeersNameDoesNotChangeItsCluster) {
  MembershipTrust trust = Trust(absl::ZeroDuration());
  Publish("alpha", "alpha", "red");
  ASSERT_TRUE(writer_->RefreshNow().ok());
  Publish("alpha0", "alpha", "evilcluster");
  ASSERT_TRUE(writer_->RefreshNow().ok());
  EXPECT_EQ(trust.Evaluate(EventEnvelope(), "alpha").outcome, TrustOutcome::kAccept);
  EXPECT_EQ(writer_->counters().heartbeats_ignored, 1);
}

TEST_F(MembershipRefreshTest, AForgottenSenderIsRefusedUntilItHeartbeatsAgain) {
  MembershipTrust trust = Trust(absl::ZeroDuration());
  Publish("alpha", "alpha", "red");
  ASSERT_TRUE(writer_->RefreshNow().ok());
  ASSERT_TRUE(writer_->Forget("alpha").ok());
  TrustDecision d = trust.Evaluate(EventEnvelope(), "alpha");
  EXPECT_EQ(d.outcome, TrustOutcome::kReject);
  EXPECT_NE(d.detail.find("alpha was forgotten"), std::string::npos) << d.detail;
  absl::SleepFor(absl::Milliseconds(2));  // a newer last_seen
  Publish("alpha", "alpha", "red");
  EXPECT_EQ(trust.Evaluate(EventEnvelope(), "alpha").outcome, TrustOutcome::kAccept);
}

}  // namespace
}  // namespace teleclaude::mesh
