// WalCheckpointer on a real SQLite file: checkpoints run on its own thread
// once the writer's WAL reaches the threshold, the WAL restarts and is cut
// back to journal_size_limit, and every committed row stays.
#include "common/sqlite/wal_checkpointer.h"

#include <filesystem>
#include <memory>
#include <string>

#include "common/sqlite/transaction.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

TEST(WalCheckpointerTest, CheckpointsOnItsOwnThreadAndTheWalStaysBounded) {
  testing::TempDir dir;
  const std::string path = dir.File("w.db");
  DatabaseOptions options;
  options.auto_checkpoint = false;
  options.journal_size_limit = 256 << 10;
  auto db = Database::Open(path, options);
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").ok());
  auto checkpointer =
      WalCheckpointer::Start({.name = "w.db", .path = path, .pages = 64, .backstop_pages = 256});
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.status();

  const std::string value(2000, 'v');
  int64_t rows = 0;
  auto commit_rows = [&](int n) {
    auto txn = Transaction::Begin(db->get());
    ASSERT_TRUE(txn.ok());
    for (int i = 0; i < n; ++i, ++rows) {
      auto insert = (*db)->Cached("INSERT INTO t (v) VALUES (?)");
      ASSERT_TRUE(insert.ok());
      (*insert)->Bind(1, value);
      ASSERT_TRUE((*insert)->Run().ok());
    }
    ASSERT_TRUE(txn->Commit().ok());
  };
  // A writer that never pauses: the thread checkpoints beside it.
  for (int round = 0; round < 200; ++round) {
    commit_rows(10);
    (*checkpointer)->Committed(db->get());
  }
  ASSERT_TRUE(testing::WaitFor([&] { return (*checkpointer)->stats().checkpoints >= 1; },
                               absl::Seconds(10)));
  (*checkpointer)->Stop();
  WalCheckpointer::Stats stats = (*checkpointer)->stats();
  EXPECT_GT(stats.pages_copied, 0);
  EXPECT_EQ(stats.failures, 0);

  // The backstop (deterministic with the thread stopped): past 256 pages the
  // writer checkpoints itself, the next transaction restarts the WAL and
  // journal_size_limit cuts the file back to 256 KiB.
  while ((*db)->wal_frames() < 256) commit_rows(10);
  const int64_t backstops = stats.backstops;
  (*checkpointer)->Committed(db->get());
  EXPECT_EQ((*checkpointer)->stats().backstops, backstops + 1);
  commit_rows(1);
  EXPECT_LE(std::filesystem::file_size(path + "-wal"), 256u << 10);
  auto count = (*db)->Prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.ok());
  ASSERT_TRUE(*count->Step());
  EXPECT_EQ(count->ColumnInt64(0), rows);
}

// A checkpoint that cannot copy everything (here a reader's snapshot holds
// it back, as the writer's commits do in a steady stream) is tried again
// once the WAL has grown by retry_pages, not after every commit: each try
// costs two fsyncs.
TEST(WalCheckpointerTest, AnUnfinishedCheckpointIsRetriedAfterRetryPagesNotEachCommit) {
  testing::TempDir dir;
  const std::string path = dir.File("w.db");
  auto db = Database::Open(path, DatabaseOptions{.auto_checkpoint = false});
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").ok());
  auto reader = Database::Open(path, DatabaseOptions{.auto_checkpoint = false});
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE((*reader)->Exec("BEGIN").ok());
  ASSERT_TRUE((*reader)->Exec("SELECT COUNT(*) FROM t").ok());  // its snapshot
  auto checkpointer = WalCheckpointer::Start(
      {.name = "w.db", .path = path, .pages = 32, .retry_pages = 64, .backstop_pages = 100000});
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.status();

  const std::string value(3000, 'v');  // about one page per commit
  auto commit_one = [&] {
    auto insert = (*db)->Cached("INSERT INTO t (v) VALUES (?)");
    ASSERT_TRUE(insert.ok());
    (*insert)->Bind(1, value);
    ASSERT_TRUE((*insert)->Run().ok());
  };
  // Slow commits (the thread keeps up with each), 300 pages in all: the
  // first try at 32 pages, then one per 64 more — at most 5, where a try
  // after each commit would be ~270.
  while ((*db)->wal_frames() < 300) {
    commit_one();
    (*checkpointer)->Committed(db->get());
    absl::SleepFor(absl::Milliseconds(1));
  }
  // (Fewer when the thread was late: a try counts from where it started.)
  ASSERT_TRUE(testing::WaitFor([&] { return (*checkpointer)->stats().checkpoints >= 2; },
                               absl::Seconds(10)))
      << (*checkpointer)->stats().checkpoints;
  EXPECT_LE((*checkpointer)->stats().checkpoints, 5);

  // The reader lets go: the next try copies everything, the writer's next
  // transaction restarts the WAL, and tries start at `pages` again.
  ASSERT_TRUE((*reader)->Exec("COMMIT").ok());
  const int64_t before = (*checkpointer)->stats().checkpoints;
  while ((*checkpointer)->stats().checkpoints == before) {
    commit_one();
    (*checkpointer)->Committed(db->get());
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        commit_one();
        (*checkpointer)->Committed(db->get());
        return (*db)->wal_frames() < 32;
      },
      absl::Seconds(10)))
      << "the WAL did not restart: " << (*db)->wal_frames() << " pages";
  const int64_t restarted = (*checkpointer)->stats().checkpoints;
  while ((*db)->wal_frames() < 40) {
    commit_one();
    (*checkpointer)->Committed(db->get());
  }
  EXPECT_TRUE(testing::WaitFor([&] { return (*checkpointer)->stats().checkpoints > restarted; },
                               absl::Seconds(10)));
  (*checkpointer)->Stop();
  EXPECT_EQ((*checkpointer)->stats().failures, 0);
}

TEST(WalCheckpointerTest, NothingToDoBelowTheThresholdAndStopIsPrompt) {
  testing::TempDir dir;
  const std::string path = dir.File("w.db");
  auto db = Database::Open(path, DatabaseOptions{.auto_checkpoint = false});
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (v TEXT)").ok());
  auto checkpointer = WalCheckpointer::Start({.name = "w.db", .path = path, .pages = 1000});
  ASSERT_TRUE(checkpointer.ok());
  (*checkpointer)->Committed(db->get());
  (*checkpointer)->Stop();
  EXPECT_EQ((*checkpointer)->stats().checkpoints, 0);
}

}  // namespace
}  // namespace teleclaude::mesh
