// MembershipReader on a real membership.db written by the store, as egress
// reads what ingress writes: nothing before the file exists, then every
// commit within a refresh, and retention applied by the reader itself.
#include "common/mesh/membership_reader.h"

#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_join.h"
#include "common/identity/identity_key.h"
#include "gtest/gtest.h"
#include "tests/common/mesh/join_names.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using testing::JoinNames;

using testing::TempDir;

class MembershipReaderTest : public ::testing::Test {
 protected:
  MembershipReader::Options Options(absl::Duration retention = absl::Hours(24)) {
    return MembershipReader::Options{dir_.File("membership.db"), "self", "x",
                                     absl::Milliseconds(20), retention};
  }

  // Writes through the store, as ingress does.
  // Each sighting signed by its computer's key (one per name): only signed
  // heartbeats announce a cluster.
  void Record(std::vector<HeartbeatSighting> seen, absl::Time now) {
    for (HeartbeatSighting& s : seen) {
      std::unique_ptr<IdentityKey>& key = keys_[s.name];
      if (key == nullptr) key = IdentityKey::Generate();
      s.key = key->public_key();
      s.signed_last_seen = now;
    }
    if (writer_ == nullptr) {
      auto store = MembershipStore::Open(dir_.File("membership.db"));
      ASSERT_TRUE(store.ok()) << store.status();
      writer_ = *std::move(store);
    }
    ASSERT_TRUE(writer_->RecordHeartbeats(seen, now, MembershipStore::Policy{}).ok());
  }

  TempDir dir_;
  std::map<std::string, std::unique_ptr<IdentityKey>> keys_;
  std::unique_ptr<MembershipStore> writer_;
};

TEST_F(MembershipReaderTest, IsEmptyUntilIngressHasCreatedTheDatabase) {
  MembershipReader reader(Options());
  absl::Status s = reader.ReloadNow();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_FALSE(reader.Snapshot()->loaded());
  EXPECT_EQ(reader.Refresh(), nullptr);
  Record({{"alpha", "x", "t1", false}}, absl::Now());
  ASSERT_TRUE(reader.ReloadNow().ok());
  EXPECT_EQ(JoinNames(reader.Snapshot()->Destinations(Visibility::kCluster)), "alpha");
}

TEST_F(MembershipReaderTest, TheBackgroundReloadFollowsTheWriter) {
  Record({{"alpha", "x", "t1", false}}, absl::Now());
  MembershipReader reader(Options());
  reader.Start();
  ASSERT_TRUE(testing::WaitFor([&] { return reader.Snapshot()->Find("alpha") != nullptr; },
                               absl::Seconds(10)));
  Record({{"bravo", std::nullopt, "b1", false}}, absl::Now());
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto s = reader.Snapshot();
        return s->Find("bravo") != nullptr && s->Find("alpha")->state == MemberState::kAway;
      },
      absl::Seconds(10)));
  EXPECT_EQ(JoinNames(reader.Snapshot()->Destinations(Visibility::kPublic)), "alpha bravo");
  ASSERT_TRUE(writer_->Forget("alpha", absl::Now()).ok());
  ASSERT_TRUE(testing::WaitFor(
      [&] { return reader.Snapshot()->Destinations(Visibility::kPublic).size() == 1; },
      absl::Seconds(10)));
  reader.Stop();
}

TEST_F(MembershipReaderTest, AppliesRetentionEvenWhenTheWriterIsNotRunning) {
  // Recorded two hours ago, away since; the writer never ran again.
  const absl::Time then = absl::Now() - absl::Hours(2);
  Record({{"alpha", "x", "t1", false}}, then);
  Record({}, then + absl::Seconds(1));
  MembershipReader reader(Options(absl::Hours(1)));
  ASSERT_TRUE(reader.ReloadNow().ok());
  const MemberRecord* alpha = reader.Snapshot()->Find("alpha");
  ASSERT_NE(alpha, nullptr);
  EXPECT_EQ(alpha->state, MemberState::kForgotten);
  EXPECT_TRUE(reader.Snapshot()->Destinations(Visibility::kPublic).empty());
  // With a longer retention it is still a destination.
  MembershipReader patient(Options(absl::Hours(3)));
  ASSERT_TRUE(patient.ReloadNow().ok());
  EXPECT_EQ(patient.Snapshot()->Destinations(Visibility::kPublic).size(), 1u);
}

}  // namespace
}  // namespace teleclaude::mesh
