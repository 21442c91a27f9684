// The questions asked of membership: where an event of each visibility goes,
// who is remembered, and how a reader applies retention by itself.
#include "common/mesh/membership_snapshot.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "common/identity/identity_key.h"
#include "gtest/gtest.h"
#include "tests/common/mesh/join_names.h"

namespace teleclaude::mesh {
namespace {

using testing::JoinNames;

const absl::Time kNow = absl::FromUnixSeconds(1'750'000'000);

MemberRecord Member(std::string name, std::optional<std::string> cluster, MemberState state,
                    absl::Time last_seen = kNow) {
  MemberRecord r;
  r.name = std::move(name);
  r.cluster = std::move(cluster);
  r.state = state;
  r.last_seen = last_seen;
  r.first_seen = last_seen;
  r.state_since = last_seen;
  if (state == MemberState::kForgotten) r.forgotten_by = ForgottenBy::kPerson;
  // Its last heartbeat signed by its pinned key (only those announce a
  // cluster).
  static const std::unique_ptr<IdentityKey> key = IdentityKey::Generate();
  r.public_key = key->public_key();
  r.verified = true;
  return r;
}

std::string Names(const std::vector<std::string_view>& names) { return JoinNames(names); }

// Seen by "self" in cluster "x", retention 1 h:
//   alpha  x        live        bravo  x     away (10 min)
//   carol  y        live        dave   none  live (a Python peer)
//   erin   x        away (2 h: retention over)
//   frank  x        forgotten   gina   x     key_changed
//   self   x        live (its own record: never a peer)
MembershipSnapshot Mesh(std::optional<std::string> self_cluster = "x") {
  return MembershipSnapshot(
      {
          Member("erin", "x", MemberState::kAway, kNow - absl::Hours(2)),
          Member("alpha", "x", MemberState::kLive),
          Member("bravo", "x", MemberState::kAway, kNow - absl::Minutes(10)),
          Member("carol", "y", MemberState::kLive),
          Member("dave", std::nullopt, MemberState::kLive),
          Member("frank", "x", MemberState::kForgotten),
          Member("gina", "x", MemberState::kKeyChanged),
          Member("self", "x", MemberState::kLive),
      },
      MembershipSnapshot::Self{"self", std::move(self_cluster), absl::Hours(1)}, kNow);
}

TEST(MembershipSnapshotTest, PublicEventsGoToEveryRememberedPeerLiveOrAway) {
  MembershipSnapshot s = Mesh();
  EXPECT_EQ(Names(s.Destinations(Visibility::kPublic)), "alpha bravo carol dave");
}

TEST(MembershipSnapshotTest, ClusterEventsGoToRememberedPeersWhoseLastHeartbeatDeclaredOurCluster) {
  MembershipSnapshot s = Mesh();
  EXPECT_EQ(Names(s.Destinations(Visibility::kCluster)), "alpha bravo");
}

TEST(MembershipSnapshotTest, LocalEventsAndClusterEventsWithoutAClusterGoNowhere) {
  EXPECT_TRUE(Mesh().Destinations(Visibility::kLocal).empty());
  EXPECT_TRUE(Mesh(std::nullopt).Destinations(Visibility::kCluster).empty());
  EXPECT_TRUE(Mesh("").Destinations(Visibility::kCluster).empty());
  EXPECT_EQ(Names(Mesh(std::nullopt).Destinations(Visibility::kPublic)), "alpha bravo carol dave");
}

TEST(MembershipSnapshotTest, AnAwayRecordPastRetentionReadsAsForgottenByRetention) {
  MembershipSnapshot s = Mesh();
  const MemberRecord* erin = s.Find("erin");
  ASSERT_NE(erin, nullptr);
  EXPECT_EQ(erin->state, MemberState::kForgotten);
  EXPECT_EQ(erin->forgotten_by, ForgottenBy::kRetention);
  EXPECT_EQ(erin->state_since, kNow - absl::Hours(1));
  EXPECT_FALSE(MembershipSnapshot::IsRemembered(*erin));
  // Ten minutes away is within retention.
  EXPECT_EQ(s.Find("bravo")->state, MemberState::kAway);
}

TEST(MembershipSnapshotTest, ListsEveryRecordSortedButNeverItself) {
  MembershipSnapshot s = Mesh();
  std::vector<std::string> names;
  for (const MemberRecord& r : s.members()) names.push_back(r.name);
  EXPECT_EQ(absl::StrJoin(names, " "), "alpha bravo carol dave erin frank gina");
  EXPECT_EQ(s.Find("self"), nullptr);
  EXPECT_EQ(s.Find("zulu"), nullptr);
  EXPECT_EQ(s.Count(MemberState::kLive), 3);
  EXPECT_EQ(s.Count(MemberState::kAway), 1);
  EXPECT_EQ(s.Count(MemberState::kForgotten), 2);
  EXPECT_TRUE(s.IsClusterPeer(*s.Find("bravo")));
  EXPECT_FALSE(s.IsClusterPeer(*s.Find("carol")));
  EXPECT_FALSE(s.IsClusterPeer(*s.Find("dave")));
}

TEST(MembershipSnapshotTest, TheEmptySnapshotIsNotLoaded) {
  MembershipSnapshot empty;
  EXPECT_FALSE(empty.loaded());
  EXPECT_TRUE(empty.Destinations(Visibility::kPublic).empty());
  EXPECT_TRUE(Mesh().loaded());
}

}  // namespace
}  // namespace teleclaude::mesh
