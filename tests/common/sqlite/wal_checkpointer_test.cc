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
  int64_t max_wal = 0;
  for (int round = 0; round < 200; ++round) {
    auto txn = Transaction::Begin(db->get());
    ASSERT_TRUE(txn.ok());
    for (int i = 0; i < 10; ++i) {
      auto insert = (*db)->Cached("INSERT INTO t (v) VALUES (?)");
      ASSERT_TRUE(insert.ok());
      (*insert)->Bind(1, value);
      ASSERT_TRUE((*insert)->Run().ok());
    }
    ASSERT_TRUE(txn->Commit().ok());
    (*checkpointer)->Committed(db->get());
    std::error_code ec;
    max_wal = std::max<int64_t>(
        max_wal, static_cast<int64_t>(std::filesystem::file_size(path + "-wal", ec)));
  }
  ASSERT_TRUE(testing::WaitFor([&] { return (*checkpointer)->stats().checkpoints >= 1; },
                               absl::Seconds(10)));
  // 2000 rows of 2 KB (~4 MB) written without a pause went through a WAL
  // that restarted again and again: the thread's checkpoints could not catch
  // up with a writer that never pauses, the backstop bounded it (256 pages
  // of 4 KB plus a transaction).
  EXPECT_LT(max_wal, 2 << 20) << "the WAL grew as if nothing checkpointed it";
  WalCheckpointer::Stats stats = (*checkpointer)->stats();
  EXPECT_GT(stats.pages_copied, 0);
  EXPECT_GT(stats.backstops, 0);
  EXPECT_EQ(stats.failures, 0);
  (*checkpointer)->Stop();
  auto count = (*db)->Prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.ok());
  ASSERT_TRUE(*count->Step());
  EXPECT_EQ(count->ColumnInt64(0), 2000);
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
