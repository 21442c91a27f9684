// membership.db on a real SQLite file, with the clock passed in: the schema
// and its migration, every state rule of doc/membership.md (new, live, away,
// stopping, retention, forget, coming back, pruning) and the read-only open;
// on a full disk (a real tmpfs) the write is reported and the records stay
// as committed until space is back.
#include "common/mesh/membership_store.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "common/base/strings.h"
#include "common/identity/identity_key.h"
#include "common/sqlite/database.h"
#include "common/sqlite/statement.h"
#include "common/sqlite/write_health.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tmpfs_mount.h"

namespace teleclaude::mesh {
namespace {

using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1'750'000'000);

class MembershipStoreTest : public ::testing::Test {
 protected:
  MembershipStoreTest() : path_(dir_.File("membership.db")) {
    auto store = MembershipStore::Open(path_);
    EXPECT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    policy_.retention = absl::Hours(24);
  }

  // A heartbeat whose `last_seen` text is `sent` (its identity as a value).
  static HeartbeatSighting Seen(std::string name, std::optional<std::string> cluster,
                                std::string sent, bool stopping = false) {
    return HeartbeatSighting{std::move(name), std::move(cluster), std::move(sent),
                             stopping,        std::nullopt,       absl::InfinitePast()};
  }

  MembershipStore::RecordResult Record(std::vector<HeartbeatSighting> seen, absl::Time now) {
    auto result = store_->RecordHeartbeats(seen, now, policy_);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *std::move(result) : MembershipStore::RecordResult{};
  }

  // "name:state[:forgotten_by] ..." of every record, as LoadAll returns them.
  std::string States() {
    auto records = store_->LoadAll();
    EXPECT_TRUE(records.ok()) << records.status();
    std::vector<std::string> out;
    for (const MemberRecord& r : *records) {
      std::string s = Cat(r.name, ":", MemberStateName(r.state));
      if (r.forgotten_by) CatTo(s, ":", ForgottenByName(*r.forgotten_by));
      out.push_back(s);
    }
    return absl::StrJoin(out, " ");
  }

  MemberRecord Get(const std::string& name) {
    auto records = store_->LoadAll();
    EXPECT_TRUE(records.ok()) << records.status();
    for (const MemberRecord& r : *records) {
      if (r.name == name) return r;
    }
    ADD_FAILURE() << "no record " << name;
    return {};
  }

  testing::TempDir dir_;
  const std::string path_;
  std::unique_ptr<MembershipStore> store_;
  MembershipStore::Policy policy_;
};

TEST_F(MembershipStoreTest, MigratesAFreshFileToTheCurrentSchema) {
  auto db = Database::Open(path_);
  ASSERT_TRUE(db.ok()) << db.status();
  auto version = (*db)->UserVersion();
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, MembershipStore::kSchemaVersion);
  // The identity columns exist from the first version (filled by the
  // identity stage, doc/security.md §10.1).
  auto stmt = (*db)->Prepare(
      "SELECT public_key, fingerprint, key_source, pending_public_key, verified FROM members");
  EXPECT_TRUE(stmt.ok()) << stmt.status();
  // Opening again applies nothing and keeps the rows.
  Record({Seen("alpha", "x", "t1")}, kT0);
  store_.reset();
  auto again = MembershipStore::Open(path_);
  ASSERT_TRUE(again.ok()) << again.status();
  store_ = *std::move(again);
  EXPECT_EQ(States(), "alpha:live");
}

TEST_F(MembershipStoreTest, RefusesADatabaseOfANewerSchema) {
  store_.reset();
  {
    auto db = Database::Open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 99").ok());
  }
  auto writer = MembershipStore::Open(path_);
  EXPECT_EQ(writer.status().code(), absl::StatusCode::kFailedPrecondition) << writer.status();
  auto reader = MembershipStore::OpenReadOnly(path_);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kFailedPrecondition) << reader.status();
  EXPECT_THAT(reader.status().message(), HasSubstr("newer"));
}

TEST_F(MembershipStoreTest, NewComputersAreLiveAndSelfDescribed) {
  auto result = Record({Seen("alpha", "x", "t1"), Seen("py", std::nullopt, "p1")}, kT0);
  EXPECT_EQ(States(), "alpha:live py:live");
  ASSERT_EQ(result.changes.size(), 2u);
  EXPECT_FALSE(result.changes[0].from.has_value());  // new
  MemberRecord alpha = Get("alpha");
  EXPECT_EQ(alpha.cluster, "x");
  EXPECT_EQ(alpha.first_seen, kT0);
  EXPECT_EQ(alpha.last_seen, kT0);
  EXPECT_EQ(alpha.state_since, kT0);
  EXPECT_EQ(alpha.heartbeat_last_seen, "t1");
  EXPECT_FALSE(alpha.public_key.has_value());
  EXPECT_FALSE(alpha.verified);
  EXPECT_EQ(Get("py").cluster, std::nullopt);
}

TEST_F(MembershipStoreTest, LastSeenMovesOnlyWithANewHeartbeatAndNothingIsWrittenOtherwise) {
  Record({Seen("alpha", "x", "t1")}, kT0);
  // The same heartbeat read again: no change, no write.
  auto same = Record({Seen("alpha", "x", "t1")}, kT0 + absl::Seconds(1));
  EXPECT_TRUE(same.changes.empty());
  EXPECT_EQ(Get("alpha").last_seen, kT0);
  // Its next heartbeat: last_seen moves, the state does not.
  Record({Seen("alpha", "y", "t2")}, kT0 + absl::Seconds(30));
  MemberRecord alpha = Get("alpha");
  EXPECT_EQ(alpha.last_seen, kT0 + absl::Seconds(30));
  EXPECT_EQ(alpha.state_since, kT0);
  EXPECT_EQ(alpha.cluster, "y");  // the cluster follows its heartbeats
  EXPECT_EQ(alpha.first_seen, kT0);
}

TEST_F(MembershipStoreTest, ALapsedHeartbeatMakesItAwayWithItsLastClusterKept) {
  Record({Seen("alpha", "x", "t1"), Seen("bravo", "x", "b1")}, kT0);
  auto result = Record({Seen("bravo", "x", "b1")}, kT0 + absl::Seconds(5));
  EXPECT_EQ(States(), "alpha:away bravo:live");
  ASSERT_EQ(result.changes.size(), 1u);
  EXPECT_EQ(result.changes[0].from, MemberState::kLive);
  EXPECT_EQ(result.changes[0].to, MemberState::kAway);
  MemberRecord alpha = Get("alpha");
  EXPECT_EQ(alpha.state_since, kT0 + absl::Seconds(5));
  EXPECT_EQ(alpha.last_seen, kT0);  // retention counts from the last heartbeat
  EXPECT_EQ(alpha.cluster, "x");
  // Back with a new heartbeat: live again, the same computer.
  Record({Seen("alpha", "x", "t2"), Seen("bravo", "x", "b1")}, kT0 + absl::Seconds(9));
  EXPECT_EQ(States(), "alpha:live bravo:live");
  EXPECT_EQ(Get("alpha").first_seen, kT0);
}

TEST_F(MembershipStoreTest, AStoppingHeartbeatMeansAwayAtOnce) {
  Record({Seen("alpha", "x", "t1")}, kT0);
  Record({Seen("alpha", "x", "t2", /*stopping=*/true)}, kT0 + absl::Seconds(1));
  MemberRecord alpha = Get("alpha");
  EXPECT_EQ(alpha.state, MemberState::kAway);
  EXPECT_TRUE(alpha.stopping);
  EXPECT_EQ(alpha.last_seen, kT0 + absl::Seconds(1));
  // It expires later: still away, nothing changes.
  EXPECT_TRUE(Record({}, kT0 + absl::Seconds(60)).changes.empty());
  EXPECT_EQ(States(), "alpha:away");
  // Started again.
  Record({Seen("alpha", "x", "t3")}, kT0 + absl::Seconds(61));
  EXPECT_EQ(States(), "alpha:live");
  EXPECT_FALSE(Get("alpha").stopping);
}

TEST_F(MembershipStoreTest, RetentionForgetsAnAwayComputerThenPrunesIt) {
  policy_.retention = absl::Hours(1);
  Record({Seen("alpha", "x", "t1")}, kT0);
  Record({}, kT0 + absl::Seconds(1));
  EXPECT_EQ(States(), "alpha:away");
  Record({}, kT0 + absl::Hours(1) - absl::Seconds(1));
  EXPECT_EQ(States(), "alpha:away");
  auto result = Record({}, kT0 + absl::Hours(1));
  EXPECT_EQ(States(), "alpha:forgotten:retention");
  ASSERT_EQ(result.changes.size(), 1u);
  EXPECT_EQ(result.changes[0].to, MemberState::kForgotten);
  // Forgotten for another retention period with no heartbeat: the row goes.
  Record({}, kT0 + absl::Hours(2) - absl::Seconds(1));
  EXPECT_EQ(States(), "alpha:forgotten:retention");
  result = Record({}, kT0 + absl::Hours(2));
  EXPECT_EQ(States(), "");
  ASSERT_EQ(result.changes.size(), 1u);
  EXPECT_TRUE(result.changes[0].removed);
}

TEST_F(MembershipStoreTest, AComputerForgottenByRetentionComesBackAsItself) {
  policy_.retention = absl::Hours(1);
  Record({Seen("alpha", "x", "t1")}, kT0);
  Record({}, kT0 + absl::Hours(2));
  EXPECT_EQ(States(), "alpha:forgotten:retention");
  Record({Seen("alpha", "x", "t2")}, kT0 + absl::Hours(3));
  EXPECT_EQ(States(), "alpha:live");
  MemberRecord alpha = Get("alpha");
  EXPECT_EQ(alpha.first_seen, kT0);
  EXPECT_EQ(alpha.forgotten_by, std::nullopt);
}

TEST_F(MembershipStoreTest, ZeroRetentionForgetsAtTheFirstLapse) {
  policy_.retention = absl::ZeroDuration();
  Record({Seen("alpha", "x", "t1")}, kT0);
  Record({}, kT0 + absl::Seconds(1));
  EXPECT_EQ(States(), "alpha:forgotten:retention");
}

TEST_F(MembershipStoreTest, ForgetEndsMembershipUntilANewRunningHeartbeat) {
  Record({Seen("alpha", "x", "t1")}, kT0);
  auto before = store_->Forget("alpha", kT0 + absl::Seconds(1));
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->state, MemberState::kLive);
  EXPECT_EQ(States(), "alpha:forgotten:person");
  // The heartbeat it had when forgotten does not bring it back, nor does a
  // stopping one.
  EXPECT_TRUE(Record({Seen("alpha", "x", "t1")}, kT0 + absl::Seconds(2)).changes.empty());
  Record({Seen("alpha", "x", "t2", /*stopping=*/true)}, kT0 + absl::Seconds(3));
  EXPECT_EQ(States(), "alpha:forgotten:person");
  // A new running heartbeat: back, as a new computer.
  auto result = Record({Seen("alpha", "y", "t3")}, kT0 + absl::Seconds(4));
  EXPECT_EQ(States(), "alpha:live");
  MemberRecord alpha = Get("alpha");
  EXPECT_EQ(alpha.first_seen, kT0 + absl::Seconds(4));
  EXPECT_EQ(alpha.cluster, "y");
  ASSERT_EQ(result.changes.size(), 1u);
  EXPECT_EQ(result.changes[0].from, MemberState::kForgotten);
}

TEST_F(MembershipStoreTest, ForgetClearsTheIdentityColumns) {
  // Written as the identity stage will write them.
  Record({Seen("alpha", "x", "t1")}, kT0);
  std::unique_ptr<IdentityKey> key = IdentityKey::Generate();
  {
    auto db = Database::Open(path_);
    ASSERT_TRUE(db.ok());
    auto stmt = (*db)->Prepare(
        "UPDATE members SET public_key = ?, fingerprint = ?, key_source = 'first_use', "
        "verified = 1 WHERE name = 'alpha'");
    ASSERT_TRUE(stmt.ok());
    stmt->Bind(1, key->public_key().Base64())
        .Bind(2, Fingerprint::Of(key->public_key()).ToString());
    ASSERT_TRUE(stmt->Run().ok());
  }
  MemberRecord pinned = Get("alpha");
  ASSERT_TRUE(pinned.public_key.has_value());
  EXPECT_EQ(*pinned.public_key, key->public_key());
  EXPECT_EQ(pinned.key_source, KeySource::kFirstUse);
  EXPECT_TRUE(pinned.verified);
  ASSERT_TRUE(store_->Forget("alpha", kT0).ok());
  MemberRecord forgotten = Get("alpha");
  EXPECT_FALSE(forgotten.public_key.has_value());
  EXPECT_FALSE(forgotten.fingerprint.has_value());
  EXPECT_FALSE(forgotten.key_source.has_value());
  EXPECT_FALSE(forgotten.verified);
}

TEST_F(MembershipStoreTest, ForgettingAnUnknownNameIsNotFoundAndForgettingTwiceChangesNothing) {
  auto unknown = store_->Forget("nobody", kT0);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(), HasSubstr("no computer named nobody is known"));
  Record({Seen("alpha", "x", "t1")}, kT0);
  ASSERT_TRUE(store_->Forget("alpha", kT0 + absl::Seconds(1)).ok());
  auto again = store_->Forget("alpha", kT0 + absl::Seconds(9));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, MemberState::kForgotten);
  EXPECT_EQ(Get("alpha").state_since, kT0 + absl::Seconds(1));
}

TEST_F(MembershipStoreTest, NewNamesBeyondTheBoundAreRefused) {
  policy_.max_members = 2;
  auto result = Record(
      {Seen("a", std::nullopt, "1"), Seen("b", std::nullopt, "1"), Seen("c", std::nullopt, "1")},
      kT0);
  EXPECT_EQ(result.refused, 1);
  EXPECT_EQ(States(), "a:live b:live");
  // Known names keep being recorded.
  Record({Seen("a", std::nullopt, "2")}, kT0 + absl::Seconds(1));
  EXPECT_EQ(Get("a").heartbeat_last_seen, "2");
}

TEST_F(MembershipStoreTest, AnUnreadableRowIsSkippedAndRewrittenByTheNextHeartbeat) {
  Record({Seen("alpha", "x", "t1"), Seen("bravo", "x", "b1")}, kT0);
  {
    auto db = Database::Open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(
        (*db)->Exec("UPDATE members SET public_key = 'not a key' WHERE name = 'alpha'").ok());
  }
  EXPECT_EQ(States(), "bravo:live");
  EXPECT_EQ(store_->skipped_rows(), 1);
  Record({Seen("alpha", "x", "t2"), Seen("bravo", "x", "b1")}, kT0 + absl::Seconds(1));
  EXPECT_EQ(States(), "alpha:live bravo:live");
}

TEST_F(MembershipStoreTest, ReadOnlyOpenSeesTheWritersCommitsAndCannotWrite) {
  store_.reset();
  testing::TempDir other;
  auto missing = MembershipStore::OpenReadOnly(other.File("membership.db"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
  EXPECT_THAT(missing.status().message(), HasSubstr("telec-ingress"));

  auto writer = MembershipStore::Open(path_);
  ASSERT_TRUE(writer.ok());
  auto reader = MembershipStore::OpenReadOnly(path_);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE((*writer)->RecordHeartbeats({Seen("alpha", "x", "t1")}, kT0, policy_).ok());
  auto records = (*reader)->LoadAll();
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].name, "alpha");
  auto forget = (*reader)->Forget("alpha", kT0);
  EXPECT_FALSE(forget.ok());
  EXPECT_THAT(forget.status().message(), HasSubstr("readonly"));
}

TEST_F(MembershipStoreTest, ReadOnlyOpenOfAFileNotYetMigratedIsUnavailable) {
  testing::TempDir other;
  const std::string path = other.File("membership.db");
  { ASSERT_TRUE(Database::Open(path).ok()); }  // created, user_version 0
  auto reader = MembershipStore::OpenReadOnly(path);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kUnavailable) << reader.status();
}

TEST(MembershipStoreDiskFullTest, AFullDiskIsReportedAndTheRecordsStayAsCommitted) {
  testing::TempDir dir;
  auto tmpfs = testing::TmpfsMount::Mount(dir.File("small"), 4 << 20);
  if (!tmpfs.ok()) GTEST_SKIP() << "NOT RUN: " << tmpfs.status().message();
  WriteHealth health("membership.db");
  auto store = MembershipStore::Open(dir.File("small/membership.db"), &health);
  ASSERT_TRUE(store.ok()) << store.status();
  MembershipStore::Policy policy;
  // Each read sees a new heartbeat of pa (a new, long `last_seen` text):
  // every call writes.
  auto record = [&](int i) {
    std::vector<HeartbeatSighting> seen;
    seen.emplace_back("pa", "home", Cat(i, "-", std::string(3000, 'h')));
    return (*store)->RecordHeartbeats(seen, kT0 + absl::Seconds(i), policy);
  };
  ASSERT_TRUE(record(0).ok());
  ASSERT_TRUE((*tmpfs)->Fill().ok());
  int last_committed = 0;
  absl::Status failure;
  for (int i = 1; i < 20000 && failure.ok(); ++i) {
    auto result = record(i);
    failure = result.status();
    if (result.ok()) last_committed = i;
  }
  ASSERT_FALSE(failure.ok()) << "the full file system took 60 MB";
  EXPECT_TRUE(IsDiskFull(failure)) << failure;
  EXPECT_TRUE(health.disk_full());
  EXPECT_THAT(std::string(health.Check().message()), HasSubstr("membership.db: disk full since"));
  // The peers as recorded: the last committed heartbeat of pa.
  auto records = (*store)->LoadAll();
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].heartbeat_last_seen.substr(0, Cat(last_committed, "-").size()),
            Cat(last_committed, "-"));
  EXPECT_EQ((*records)[0].state, MemberState::kLive);

  // Space back: the next read is recorded and the condition is over.
  EXPECT_GE((*tmpfs)->Free(1 << 20), 1 << 20);
  auto recovered = record(last_committed + 100);
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_FALSE(health.disk_full());
  records = (*store)->LoadAll();
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ((*records)[0].heartbeat_last_seen.substr(0, Cat(last_committed + 100, "-").size()),
            Cat(last_committed + 100, "-"));
}

}  // namespace
}  // namespace teleclaude::mesh
