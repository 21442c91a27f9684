// MembershipWriter against a real redis-server and a real membership.db:
// heartbeats become records, a lapsed one stays a destination, a key that
// claims another computer's name changes nothing, a failed read changes
// nothing, and what was recorded survives a restart.
#include "common/mesh/membership_writer.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "common/base/strings.h"
#include "common/identity/identity_key.h"
#include "common/mesh/heartbeat.h"
#include "gtest/gtest.h"
#include "tests/common/mesh/join_names.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using testing::JoinNames;

using testing::RedisServer;
using testing::TempDir;

class MembershipWriterTest : public ::testing::Test {
 protected:
  MembershipWriterTest() : client_(redis_.Client()) {}

  std::unique_ptr<MembershipWriter> Writer(std::string self = "self",
                                           std::optional<std::string> cluster = "x") {
    MembershipWriter::Options o;
    o.redis = redis_.ClientOptions();
    o.db_path = dir_.File("membership.db");
    o.self_name = std::move(self);
    o.self_cluster = std::move(cluster);
    o.refresh = absl::Hours(1);  // the tests call RefreshNow
    auto writer = MembershipWriter::Open(std::move(o));
    EXPECT_TRUE(writer.ok()) << writer.status();
    return writer.ok() ? *std::move(writer) : nullptr;
  }

  // Signed by `computer_name`'s key (one per name) when `sent` is left
  // as is (now); unsigned otherwise.
  void Beat(const std::string& key_name, const std::string& computer_name,
            std::optional<std::string> cluster, const std::string& sent = "",
            absl::Duration ttl = absl::Seconds(60)) {
    Heartbeat hb{computer_name, sent, std::move(cluster)};
    if (!sent.empty()) {
      ASSERT_TRUE(client_->SetEx(HeartbeatKey(key_name), EncodeHeartbeat(hb), ttl).ok());
      return;
    }
    hb.last_seen = absl::FormatTime("%Y-%m-%dT%H:%M:%E6S+00:00", absl::Now(), absl::UTCTimeZone());
    std::unique_ptr<IdentityKey>& key = keys_[computer_name];
    if (key == nullptr) key = IdentityKey::Generate();
    ASSERT_TRUE(client_->SetEx(HeartbeatKey(key_name), EncodeSignedHeartbeat(hb, *key), ttl).ok());
  }
  std::map<std::string, std::unique_ptr<IdentityKey>> keys_;

  // "name:state:cluster" of every record of the writer's snapshot.
  static std::string Records(const MembershipSnapshot& s) {
    std::vector<std::string> out;
    for (const MemberRecord& r : s.members()) {
      out.push_back(Cat(r.name, ":", MemberStateName(r.state), ":", r.cluster.value_or("-")));
    }
    return absl::StrJoin(out, " ");
  }

  RedisServer redis_;
  std::unique_ptr<RedisClient> client_;
  TempDir dir_;
};

TEST_F(MembershipWriterTest, RecordsEveryOtherComputersHeartbeat) {
  auto writer = Writer();
  Beat("self", "self", "x");
  Beat("alpha", "alpha", "x");
  Beat("py", "py", std::nullopt);
  EXPECT_FALSE(writer->has_read_heartbeats());
  ASSERT_TRUE(writer->RefreshNow().ok());
  EXPECT_TRUE(writer->has_read_heartbeats());
  EXPECT_EQ(Records(*writer->Snapshot()), "alpha:live:x py:live:-");
  EXPECT_EQ(writer->counters().refreshes, 1);
}

TEST_F(MembershipWriterTest, ALapsedHeartbeatLeavesTheComputerAwayAndStillADestination) {
  auto writer = Writer();
  Beat("alpha", "alpha", "x", "", absl::Milliseconds(300));
  ASSERT_TRUE(writer->RefreshNow().ok());
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto v = client_->Get(HeartbeatKey("alpha"));
        return v.ok() && !v->has_value();
      },
      absl::Seconds(5)));
  ASSERT_TRUE(writer->RefreshNow().ok());
  auto snapshot = writer->Snapshot();
  EXPECT_EQ(Records(*snapshot), "alpha:away:x");
  EXPECT_EQ(JoinNames(snapshot->Destinations(Visibility::kCluster)), "alpha");
}

TEST_F(MembershipWriterTest, AKeyThatClaimsAnotherComputersNameChangesNothing) {
  auto writer = Writer();
  Beat("alpha", "alpha", "x");
  ASSERT_TRUE(writer->RefreshNow().ok());
  // A second key claiming alpha in another cluster, and one claiming a name
  // nobody uses under a key of another name.
  Beat("alpha0", "alpha", "evil");
  Beat("g", "ghost", "x");
  ASSERT_TRUE(writer->RefreshNow().ok());
  EXPECT_EQ(Records(*writer->Snapshot()), "alpha:live:x");
  EXPECT_EQ(writer->counters().heartbeats_ignored, 2);
  // Even with alpha's own heartbeat gone, the claim does not take its place.
  ASSERT_TRUE(client_->Del({HeartbeatKey("alpha")}).ok());
  ASSERT_TRUE(writer->RefreshNow().ok());
  EXPECT_EQ(Records(*writer->Snapshot()), "alpha:away:x");
}

TEST_F(MembershipWriterTest, MalformedAndBadlySignedHeartbeatsAreIgnored) {
  auto writer = Writer();
  ASSERT_TRUE(client_->SetEx(HeartbeatKey("junk"), "{not json", absl::Seconds(60)).ok());
  ASSERT_TRUE(client_
                  ->SetEx(HeartbeatKey("bad\x01name"),
                          "{\"computer_name\": \"bad\\u0001name\", \"last_seen\": \"t\"}",
                          absl::Seconds(60))
                  .ok());
  // A signed heartbeat whose cluster was changed after signing.
  std::unique_ptr<IdentityKey> key = IdentityKey::Generate();
  Heartbeat signed_hb{"signer", "2026-01-01T00:00:00+00:00", "x"};
  std::string value = EncodeSignedHeartbeat(signed_hb, *key);
  const std::string from = "\"cluster\": \"x\"";
  value.replace(value.find(from), from.size(), "\"cluster\": \"y\"");
  ASSERT_TRUE(client_->SetEx(HeartbeatKey("signer"), value, absl::Seconds(60)).ok());
  // And a well signed one, recorded and its key pinned (first use).
  Beat("alpha", "alpha", "x");
  Beat("signed", "signed", "x");
  ASSERT_TRUE(writer->RefreshNow().ok());
  EXPECT_EQ(Records(*writer->Snapshot()), "alpha:live:x signed:live:x");
  EXPECT_EQ(writer->counters().heartbeats_ignored, 3);
  EXPECT_TRUE(writer->Snapshot()->Find("signed")->public_key.has_value());
  EXPECT_TRUE(writer->Snapshot()->Find("signed")->verified);
}

// Issue 15: every name a Python computer may have is a peer (spaces,
// colons, '*', non-ASCII, up to 255 bytes); one longer is not.
TEST_F(MembershipWriterTest, RecordsEveryNamePythonAccepts) {
  auto writer = Writer();
  const std::string long_name(255, 'n');
  for (const std::string& name :
       {std::string("py C"), std::string("a:b"), std::string("caf\xc3\xa9*"), long_name}) {
    Beat(name, name, std::nullopt);
  }
  Beat(std::string(256, 'n'), std::string(256, 'n'), std::nullopt);
  ASSERT_TRUE(writer->RefreshNow().ok());
  EXPECT_EQ(Records(*writer->Snapshot()),
            Cat("a:b:live:- caf\xc3\xa9*:live:- ", long_name, ":live:- py C:live:-"));
  EXPECT_EQ(writer->counters().heartbeats_ignored, 1);
  EXPECT_EQ(JoinNames(writer->Snapshot()->Destinations(Visibility::kPublic)),
            Cat("a:b caf\xc3\xa9* ", long_name, " py C"));
}

TEST_F(MembershipWriterTest, AStoppingHeartbeatMakesTheComputerAway) {
  auto writer = Writer();
  Beat("alpha", "alpha", "x", "t1");
  ASSERT_TRUE(writer->RefreshNow().ok());
  Heartbeat stopping{"alpha", "t2", "x", HeartbeatState::kStopping};
  ASSERT_TRUE(
      client_->SetEx(HeartbeatKey("alpha"), EncodeHeartbeat(stopping), absl::Seconds(60)).ok());
  ASSERT_TRUE(writer->RefreshNow().ok());
  const MemberRecord* alpha = writer->Snapshot()->Find("alpha");
  ASSERT_NE(alpha, nullptr);
  EXPECT_EQ(alpha->state, MemberState::kAway);
  EXPECT_TRUE(alpha->stopping);
}

TEST_F(MembershipWriterTest, ARedisOutageChangesNoRecord) {
  auto writer = Writer();
  Beat("alpha", "alpha", "x");
  ASSERT_TRUE(writer->RefreshNow().ok());
  redis_.Stop();
  absl::Status s = writer->RefreshNow();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(writer->Refresh(), nullptr);
  EXPECT_EQ(Records(*writer->Snapshot()), "alpha:live:x");
}

TEST_F(MembershipWriterTest, WhatWasRecordedIsTheFirstSnapshotAfterARestart) {
  {
    auto writer = Writer();
    Beat("alpha", "alpha", "x");
    Beat("bravo", "bravo", "y");
    ASSERT_TRUE(writer->RefreshNow().ok());
  }
  ASSERT_TRUE(client_->Del({HeartbeatKey("alpha"), HeartbeatKey("bravo")}).ok());
  auto writer = Writer();
  auto snapshot = writer->Snapshot();
  EXPECT_TRUE(snapshot->loaded());
  EXPECT_FALSE(writer->has_read_heartbeats());
  EXPECT_EQ(Records(*snapshot), "alpha:live:x bravo:live:y");
  ASSERT_TRUE(writer->RefreshNow().ok());
  EXPECT_EQ(Records(*writer->Snapshot()), "alpha:away:x bravo:away:y");
}

TEST_F(MembershipWriterTest, ForgetPublishesAtOnceAndANewHeartbeatBringsItBack) {
  auto writer = Writer();
  Beat("alpha", "alpha", "x", "t1");
  ASSERT_TRUE(writer->RefreshNow().ok());
  auto before = writer->Forget("alpha");
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->state, MemberState::kLive);
  EXPECT_EQ(Records(*writer->Snapshot()), "alpha:forgotten:x");
  EXPECT_TRUE(writer->Snapshot()->Destinations(Visibility::kPublic).empty());
  ASSERT_TRUE(writer->RefreshNow().ok());  // the same heartbeat: still forgotten
  EXPECT_EQ(Records(*writer->Snapshot()), "alpha:forgotten:x");
  Beat("alpha", "alpha", "x", "t2");
  ASSERT_TRUE(writer->RefreshNow().ok());
  EXPECT_EQ(Records(*writer->Snapshot()), "alpha:live:x");
  EXPECT_EQ(writer->Forget("nobody").status().code(), absl::StatusCode::kNotFound);
}

// doc/security.md §10.1: an unchanged heartbeat is verified once; a value
// altered under the same key after a valid one was read is verified — and
// refused — every read.
TEST_F(MembershipWriterTest, AnUnchangedHeartbeatIsVerifiedOnceATamperedOneAlways) {
  auto writer = Writer();
  Beat("alpha", "alpha", "x");
  ASSERT_TRUE(writer->RefreshNow().ok());
  ASSERT_TRUE(writer->RefreshNow().ok());
  ASSERT_TRUE(writer->RefreshNow().ok());
  EXPECT_EQ(writer->counters().heartbeats_decoded, 1);
  EXPECT_EQ(writer->counters().heartbeats_ignored, 0);
  EXPECT_TRUE(writer->Snapshot()->Find("alpha")->verified);
  // The same bytes with another cluster: alpha's signature no longer covers
  // them.
  absl::StatusOr<std::optional<std::string>> value = client_->Get(HeartbeatKey("alpha"));
  ASSERT_TRUE(value.ok() && value->has_value());
  std::string tampered = **value;
  const std::string from = "\"cluster\": \"x\"";
  ASSERT_NE(tampered.find(from), std::string::npos);
  tampered.replace(tampered.find(from), from.size(), "\"cluster\": \"y\"");
  ASSERT_TRUE(client_->SetEx(HeartbeatKey("alpha"), tampered, absl::Seconds(60)).ok());
  ASSERT_TRUE(writer->RefreshNow().ok());
  ASSERT_TRUE(writer->RefreshNow().ok());
  EXPECT_EQ(writer->counters().heartbeats_decoded, 2);
  EXPECT_EQ(writer->counters().heartbeats_ignored, 2);
  EXPECT_EQ(Records(*writer->Snapshot()), "alpha:away:x");
  // alpha's next genuine heartbeat is decoded and accepted.
  Beat("alpha", "alpha", "x");
  ASSERT_TRUE(writer->RefreshNow().ok());
  EXPECT_EQ(writer->counters().heartbeats_decoded, 3);
  EXPECT_EQ(Records(*writer->Snapshot()), "alpha:live:x");
}

TEST_F(MembershipWriterTest, TheBackgroundThreadKeepsTheSnapshotCurrent) {
  MembershipWriter::Options o;
  o.redis = redis_.ClientOptions();
  o.db_path = dir_.File("membership.db");
  o.self_name = "self";
  o.refresh = absl::Milliseconds(20);
  auto writer = MembershipWriter::Open(std::move(o));
  ASSERT_TRUE(writer.ok()) << writer.status();
  (*writer)->Start();
  Beat("alpha", "alpha", std::nullopt);
  EXPECT_TRUE(testing::WaitFor([&] { return (*writer)->Snapshot()->Find("alpha") != nullptr; },
                               absl::Seconds(10)));
  (*writer)->Stop();
}

}  // namespace
}  // namespace teleclaude::mesh
