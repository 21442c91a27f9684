// SeenIds on a real SQLite file with an injected clock: an id recorded is
// seen, an expired one is forgotten by pruning — in chunks, however many —
// and a fresh one is kept.
#include "common/delivery/seen_ids.h"

#include <memory>
#include <string>

#include "common/sqlite/transaction.h"
#include "gtest/gtest.h"
#include "tests/support/manual_clock.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh {
namespace {

using testing::ManualClock;
using testing::TempDir;

class SeenIdsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(dir_.File("seen.db"));
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Migrate({{1, SeenIds::Schema()}}).ok());
    SeenIds::Options options;
    options.ttl = absl::Hours(1);
    options.prune_every = absl::Minutes(10);
    options.prune_chunk = 100;
    options.clock = &clock_;
    seen_ = std::make_unique<SeenIds>(db_.get(), options);
  }

  bool Mark(const std::string& id) {
    auto txn = Transaction::Begin(db_.get());
    EXPECT_TRUE(txn.ok());
    auto fresh = seen_->MarkSeen(id);
    EXPECT_TRUE(fresh.ok()) << fresh.status();
    EXPECT_TRUE(txn->Commit().ok());
    return fresh.value_or(false);
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<SeenIds> seen_;
};

TEST_F(SeenIdsTest, AnIdIsNewOnceThenSeen) {
  EXPECT_TRUE(Mark("a"));
  EXPECT_FALSE(Mark("a"));
  EXPECT_TRUE(Mark("b"));
  EXPECT_TRUE(*seen_->Contains("a"));
  EXPECT_FALSE(*seen_->Contains("c"));
}

TEST_F(SeenIdsTest, ExpiredIdsAreForgottenInChunksAndFreshOnesKept) {
  {
    auto txn = Transaction::Begin(db_.get());
    ASSERT_TRUE(txn.ok());
    for (int i = 0; i < 250; ++i) ASSERT_TRUE(*seen_->MarkSeen("old:" + std::to_string(i)));
    ASSERT_TRUE(txn->Commit().ok());
  }
  clock_.Advance(absl::Minutes(61));
  EXPECT_TRUE(Mark("fresh"));
  // A pass: 100, 100, then 50 (the last chunk ends it).
  EXPECT_TRUE(seen_->RunIfDue(clock_.Now()));
  EXPECT_TRUE(seen_->RunIfDue(clock_.Now()));
  EXPECT_FALSE(seen_->RunIfDue(clock_.Now()));
  EXPECT_EQ(seen_->pruned(), 250);
  EXPECT_FALSE(*seen_->Contains("old:7"));
  EXPECT_TRUE(*seen_->Contains("fresh"));
  // The next pass is due 10 minutes later, not before.
  EXPECT_FALSE(seen_->RunIfDue(clock_.Now() + absl::Minutes(5)));
  clock_.Advance(absl::Hours(2));
  EXPECT_FALSE(seen_->RunIfDue(clock_.Now()));
  EXPECT_FALSE(*seen_->Contains("fresh"));
  EXPECT_TRUE(Mark("old:7"));  // forgotten: new again
}

}  // namespace
}  // namespace teleclaude::mesh
