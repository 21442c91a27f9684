// WriteHealth and the disk-full path of common/sqlite on a real full file
// system (a small tmpfs): SQLITE_FULL is recognised and reported, a TRUNCATE
// checkpoint gives the WAL's space back, and the next commit clears it.
#include "common/sqlite/write_health.h"

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "common/sqlite/database.h"
#include "common/sqlite/statement.h"
#include "common/sqlite/transaction.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tmpfs_mount.h"

namespace teleclaude::mesh {
namespace {

TEST(WriteHealthTest, DiskFullIsReportedUntilACommitAndOtherErrorsAreNot) {
  WriteHealth health("x.db");
  EXPECT_TRUE(health.Check().ok());
  EXPECT_FALSE(health.Failed(absl::InternalError("sqlite x.db: no such table")));
  EXPECT_TRUE(health.Check().ok());
  EXPECT_TRUE(
      health.Failed(SqliteStatus(13 /* SQLITE_FULL */, "sqlite x.db: database or disk is full")));
  absl::Status check = health.Check();
  EXPECT_EQ(check.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(check.message(), "x.db: disk full since")) << check;
  EXPECT_TRUE(absl::StrContains(check.message(), "database or disk is full")) << check;
  health.Committed();
  EXPECT_TRUE(health.Check().ok());
}

TEST(WriteHealthTest, RealFullDiskFailsWithSqliteFullAndTruncateGivesTheWalBack) {
  testing::TempDir dir;
  auto tmpfs = testing::TmpfsMount::Mount(dir.File("small"), 4 << 20);
  if (!tmpfs.ok()) GTEST_SKIP() << "NOT RUN: " << tmpfs.status().message();
  const std::string path = dir.File("small/f.db");
  auto db = Database::Open(path, DatabaseOptions{.auto_checkpoint = false});
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (v TEXT)").ok());
  WriteHealth health("f.db");
  auto insert_one = [&](size_t bytes) -> absl::Status {
    auto txn = Transaction::Begin(db->get());
    if (!txn.ok()) return txn.status();
    auto insert = (*db)->Cached("INSERT INTO t (v) VALUES (?)");
    if (!insert.ok()) return insert.status();
    (*insert)->Bind(1, std::string(bytes, 'v'));
    if (absl::Status s = (*insert)->Run(); !s.ok()) return s;
    return txn->Commit();
  };
  int64_t committed = 0;
  for (int i = 0; i < 50; ++i, ++committed) ASSERT_TRUE(insert_one(4000).ok());
  ASSERT_TRUE((*db)->Checkpoint(CheckpointMode::kTruncate).ok());
  ASSERT_TRUE((*tmpfs)->Fill().ok());

  absl::Status failure;
  for (int i = 0; i < 10000 && failure.ok(); ++i) {
    failure = insert_one(4000);
    if (failure.ok()) ++committed;
  }
  ASSERT_FALSE(failure.ok()) << "the full file system took 40 MB";
  EXPECT_TRUE(IsDiskFull(failure)) << failure;
  EXPECT_EQ(failure.code(), absl::StatusCode::kUnavailable) << failure;
  EXPECT_TRUE(health.Failed(failure));
  EXPECT_EQ(health.Check().code(), absl::StatusCode::kResourceExhausted);

  // A little space back; TRUNCATE copies what was committed into the
  // database file and cuts the WAL to nothing.
  EXPECT_GE((*tmpfs)->Free(1 << 20), 1 << 20);
  auto copied = (*db)->Checkpoint(CheckpointMode::kTruncate);
  ASSERT_TRUE(copied.ok()) << copied.status();
  EXPECT_EQ(std::filesystem::file_size(path + "-wal"), 0u);
  ASSERT_TRUE(insert_one(4000).ok());
  ++committed;
  health.Committed();
  EXPECT_TRUE(health.Check().ok());
  auto count = (*db)->Prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.ok());
  ASSERT_TRUE(*count->Step());
  EXPECT_EQ(count->ColumnInt64(0), committed);  // every committed row, nothing else
}

}  // namespace
}  // namespace teleclaude::mesh
