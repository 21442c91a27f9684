#include "common/sqlite/database.h"

#include <thread>

#include "common/sqlite/transaction.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::TempDir;

const std::vector<Migration> kMigrations = {
    {1, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)"},
    {2, "ALTER TABLE t ADD COLUMN note TEXT; CREATE INDEX t_note ON t(note)"},
};

int64_t Count(Database& db, const std::string& table) {
  auto stmt = db.Prepare("SELECT COUNT(*) FROM " + table);
  EXPECT_TRUE(stmt.ok());
  EXPECT_TRUE(*stmt->Step());
  return stmt->ColumnInt64(0);
}

TEST(DatabaseTest, MigratesFromZeroAndReopensIdempotently) {
  TempDir dir;
  {
    auto db = Database::Open(dir.File("a.db"));
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)->Migrate({kMigrations[0]}).ok());
    EXPECT_EQ(*(*db)->UserVersion(), 1);
    ASSERT_TRUE((*db)->Exec("INSERT INTO t(name) VALUES ('x')").ok());
  }
  auto db = Database::Open(dir.File("a.db"));
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Migrate(kMigrations).ok());
  ASSERT_TRUE((*db)->Migrate(kMigrations).ok());
  EXPECT_EQ(*(*db)->UserVersion(), 2);
  EXPECT_EQ(Count(**db, "t"), 1);
  auto journal = (*db)->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(*journal->Step());
  EXPECT_EQ(journal->ColumnText(0), "wal");
}

TEST(DatabaseTest, RefusesASchemaNewerThanTheCode) {
  TempDir dir;
  auto db = Database::Open(dir.File("a.db"));
  ASSERT_TRUE((*db)->Migrate(kMigrations).ok());
  absl::Status s = (*db)->Migrate({kMigrations[0]});
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(std::string(s.message()).find("newer"), std::string::npos) << s;
}

TEST(DatabaseTest, FailedMigrationLeavesVersionUnchanged) {
  TempDir dir;
  auto db = Database::Open(dir.File("a.db"));
  absl::Status s = (*db)->Migrate({kMigrations[0], {2, "ALTER TABLE nope ADD COLUMN x"}});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("migration to version 2"), std::string::npos) << s;
  EXPECT_EQ(*(*db)->UserVersion(), 1);
}

TEST(DatabaseTest, TransactionsCommitAndRollBack) {
  TempDir dir;
  auto db = Database::Open(dir.File("a.db"));
  ASSERT_TRUE((*db)->Migrate(kMigrations).ok());
  {
    auto tx = Transaction::Begin(db->get());
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO t(name) VALUES ('rolled back')").ok());
  }
  EXPECT_EQ(Count(**db, "t"), 0);
  {
    auto tx = Transaction::Begin(db->get());
    ASSERT_TRUE((*db)->Exec("INSERT INTO t(name) VALUES ('kept')").ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  EXPECT_EQ(Count(**db, "t"), 1);
}

TEST(DatabaseTest, ConstraintViolationIsRecognisable) {
  TempDir dir;
  auto db = Database::Open(dir.File("a.db"));
  ASSERT_TRUE((*db)->Migrate(kMigrations).ok());
  auto ins = (*db)->Cached("INSERT INTO t(name, note) VALUES (?, ?)");
  ASSERT_TRUE(ins.ok());
  (*ins)->Bind(1, "a").Bind(2, std::optional<std::string>());
  ASSERT_TRUE((*ins)->Run().ok());
  auto again = (*db)->Cached("INSERT INTO t(name, note) VALUES (?, ?)");
  EXPECT_EQ(*again, *ins) << "cached statements are reused";
  (*again)->Bind(1, "a").Bind(2, "n");
  absl::Status s = (*again)->Run();
  EXPECT_TRUE(IsConstraintViolation(s)) << s;
  EXPECT_NE(std::string(s.message()).find("UNIQUE"), std::string::npos) << s;
  EXPECT_NE(std::string(s.message()).find("a.db"), std::string::npos) << s;
  EXPECT_FALSE(IsConstraintViolation(absl::AlreadyExistsError("other")));
}

TEST(DatabaseTest, ReaderWaitsOutAWriterWithTheBusyTimeout) {
  TempDir dir;
  auto writer = Database::Open(dir.File("a.db"));
  ASSERT_TRUE((*writer)->Migrate(kMigrations).ok());
  auto other = Database::Open(dir.File("a.db"));
  auto tx = Transaction::Begin(writer->get());
  ASSERT_TRUE((*writer)->Exec("INSERT INTO t(name) VALUES ('w')").ok());
  // WAL: a reader is not blocked by the open write transaction.
  EXPECT_EQ(Count(**other, "t"), 0);
  // A second writer waits for the first (busy timeout) instead of failing.
  std::thread commit([&] {
    absl::SleepFor(absl::Milliseconds(200));
    ASSERT_TRUE(tx->Commit().ok());
  });
  absl::Status s = (*other)->Exec("INSERT INTO t(name) VALUES ('o')");
  commit.join();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(Count(**other, "t"), 2);
}

TEST(DatabaseTest, HundredThousandInsertsInOneTransaction) {
  TempDir dir;
  auto db = Database::Open(dir.File("a.db"));
  ASSERT_TRUE((*db)->Migrate(kMigrations).ok());
  auto tx = Transaction::Begin(db->get());
  auto ins = (*db)->Cached("INSERT INTO t(name) VALUES (?)");
  for (int i = 0; i < 100000; ++i) {
    (*ins)->Bind(1, std::to_string(i));
    ASSERT_TRUE((*ins)->Run().ok());
    (*ins)->Reset();
  }
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_EQ(Count(**db, "t"), 100000);
  EXPECT_EQ((*db)->LastInsertRowId(), 100000);
}

TEST(DatabaseTest, OpenFailsClearlyWhenTheDirectoryIsMissing) {
  auto db = Database::Open("/nonexistent-dir/x/a.db");
  EXPECT_TRUE(absl::IsUnavailable(db.status())) << db.status();
  EXPECT_NE(std::string(db.status().message()).find("/nonexistent-dir/x/a.db"), std::string::npos);
}

}  // namespace
}  // namespace teleclaude::mesh
