#include "common/sqlite/database.h"

#include <sqlite3.h>

#include <algorithm>
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

// Without SQLite's auto-checkpoint the WAL grows past its 1000 pages until
// the owner checkpoints; then the next commit starts it from the beginning.
TEST(DatabaseTest, ManualCheckpointsLeaveTheWalToTheOwner) {
  TempDir dir;
  auto db = Database::Open(dir.File("a.db"), DatabaseOptions{.auto_checkpoint = false});
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->Migrate(kMigrations).ok());
  EXPECT_GT((*db)->wal_frames(), 0);  // the migrations' commits
  const std::string big(3000, 'x');   // about one page per row
  int last = 0;
  for (int txn = 0; txn < 30; ++txn) {
    auto tx = Transaction::Begin(db->get());
    auto ins = (*db)->Cached("INSERT INTO t(name) VALUES (?)");
    for (int i = 0; i < 50; ++i) {
      (*ins)->Bind(1, big + std::to_string(txn * 50 + i));
      ASSERT_TRUE((*ins)->Run().ok());
      (*ins)->Reset();
    }
    ASSERT_TRUE(tx->Commit().ok());
    ASSERT_GT((*db)->wal_frames(), last) << "the WAL restarted without a checkpoint";
    last = (*db)->wal_frames();
  }
  EXPECT_GT(last, 1500);  // past SQLite's default of 1000: nobody checkpointed
  absl::StatusOr<int> copied = (*db)->Checkpoint();
  ASSERT_TRUE(copied.ok()) << copied.status();
  EXPECT_GT(*copied, 0);
  EXPECT_EQ((*db)->wal_frames(), 0);
  auto tx = Transaction::Begin(db->get());
  ASSERT_TRUE((*db)->Exec("INSERT INTO t(name) VALUES ('after')").ok());
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_LT((*db)->wal_frames(), 10);  // started again from the beginning
  EXPECT_EQ(Count(**db, "t"), 1501);
}

TEST(DatabaseTest, OpenFailsClearlyWhenTheDirectoryIsMissing) {
  auto db = Database::Open("/nonexistent-dir/x/a.db");
  EXPECT_TRUE(absl::IsUnavailable(db.status())) << db.status();
  EXPECT_NE(std::string(db.status().message()).find("/nonexistent-dir/x/a.db"), std::string::npos);
}

TEST(DatabaseTest, ErrorsNameTheFileTheStatementAndTheConstraintKind) {
  TempDir dir;
  auto db = Database::Open(dir.File("events.db"));
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)
                  ->Exec("CREATE TABLE parent (id INTEGER PRIMARY KEY);"
                         "CREATE TABLE notifications (id INTEGER PRIMARY KEY, key TEXT UNIQUE,"
                         " body TEXT NOT NULL, parent INTEGER REFERENCES parent(id))")
                  .ok());
  ASSERT_TRUE((*db)->Exec("INSERT INTO notifications (id, key, body) VALUES (1, 'k', 'b')").ok());

  auto dup = (*db)->Prepare("INSERT INTO notifications (key, body) VALUES (?1, ?2)");
  ASSERT_TRUE(dup.ok()) << dup.status();
  dup->Bind(1, "k").Bind(2, "b");
  absl::Status unique = dup->Run();
  EXPECT_EQ(unique.code(), absl::StatusCode::kAlreadyExists) << unique;
  EXPECT_TRUE(IsUniqueViolation(unique));
  EXPECT_TRUE(IsConstraintViolation(unique));
  EXPECT_EQ(SqliteResultCode(unique), SQLITE_CONSTRAINT_UNIQUE);
  EXPECT_EQ(std::string(unique.message()),
            "sqlite " + dir.File("events.db") +
                ": INSERT INTO notifications (key, body) VALUES (?1, ?2): UNIQUE constraint "
                "failed: notifications.key");

  absl::Status pk = (*db)->Exec("INSERT INTO notifications (id, body) VALUES (1, 'x')");
  EXPECT_TRUE(IsUniqueViolation(pk)) << pk;
  EXPECT_EQ(SqliteResultCode(pk), SQLITE_CONSTRAINT_PRIMARYKEY);

  absl::Status not_null = (*db)->Exec("INSERT INTO notifications (key) VALUES ('n')");
  EXPECT_EQ(not_null.code(), absl::StatusCode::kFailedPrecondition) << not_null;
  EXPECT_TRUE(IsConstraintViolation(not_null));
  EXPECT_FALSE(IsUniqueViolation(not_null));

  absl::Status fk = (*db)->Exec("INSERT INTO notifications (body, parent) VALUES ('b', 42)");
  EXPECT_TRUE(IsConstraintViolation(fk)) << "foreign_keys is ON: " << fk;
  EXPECT_EQ(SqliteResultCode(fk), SQLITE_CONSTRAINT_FOREIGNKEY);

  auto bad = (*db)->Prepare("SELEKT 1");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(std::string(bad.status().message()).find("SELEKT 1: cannot prepare"), std::string::npos)
      << bad.status();
  EXPECT_FALSE(IsConstraintViolation(bad.status()));
  EXPECT_EQ(SqliteResultCode(absl::AlreadyExistsError("not from sqlite")), std::nullopt);
}

TEST(DatabaseTest, ColumnsRoundTripNullsDoublesAndBinaryText) {
  TempDir dir;
  auto db = Database::Open(dir.File("a.db"));
  ASSERT_TRUE((*db)->Exec("CREATE TABLE v (i INTEGER, d REAL, t TEXT, o TEXT)").ok());
  const std::string text("nul\0byte \xC3\xA9\xF0\x9F\x98\x80", 17);
  auto ins = (*db)->Cached("INSERT INTO v VALUES (?, ?, ?, ?)");
  ASSERT_TRUE(ins.ok());
  (*ins)
      ->Bind(1, int64_t{1} << 40)
      .Bind(2, 2.5)
      .Bind(3, text)
      .Bind(4, std::optional<std::string>());
  ASSERT_TRUE((*ins)->Run().ok());
  EXPECT_EQ((*db)->Changes(), 1);
  (*ins)->Bind(1, -7).Bind(2, 0.0).Bind(3, "").Bind(4, std::optional<std::string>("set"));
  ASSERT_TRUE((*ins)->Run().ok());

  auto sel = (*db)->Prepare("SELECT i, d, t, o FROM v ORDER BY rowid");
  ASSERT_TRUE(sel.ok());
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->ColumnInt64(0), int64_t{1} << 40);
  EXPECT_EQ(sel->ColumnDouble(1), 2.5);
  EXPECT_EQ(sel->ColumnText(2), text);
  EXPECT_TRUE(sel->ColumnIsNull(3));
  EXPECT_EQ(sel->ColumnOptionalText(3), std::nullopt);
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->ColumnInt64(0), -7);
  EXPECT_EQ(sel->ColumnText(2), "");
  EXPECT_FALSE(sel->ColumnIsNull(2));
  EXPECT_EQ(sel->ColumnOptionalText(3), "set");
  EXPECT_FALSE(*sel->Step());
  // Reset() runs the query again from the start.
  sel->Reset();
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->ColumnInt64(0), int64_t{1} << 40);
}

TEST(DatabaseTest, SecondWriterGivesUpAfterTheBusyTimeout) {
  TempDir dir;
  auto writer = Database::Open(dir.File("a.db"));
  ASSERT_TRUE((*writer)->Migrate(kMigrations).ok());
  DatabaseOptions impatient;
  impatient.busy_timeout = absl::Milliseconds(100);
  auto other = Database::Open(dir.File("a.db"), impatient);
  ASSERT_TRUE(other.ok()) << other.status();
  auto tx = Transaction::Begin(writer->get());
  ASSERT_TRUE(tx.ok()) << tx.status();
  absl::Time start = absl::Now();
  auto blocked = Transaction::Begin(other->get());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(90));
  EXPECT_TRUE(absl::IsUnavailable(blocked.status())) << blocked.status();
  EXPECT_NE(std::string(blocked.status().message()).find("BEGIN IMMEDIATE"), std::string::npos)
      << blocked.status();
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_TRUE(Transaction::Begin(other->get()).ok());
}

TEST(DatabaseTest, RejectsBadOptionsAndOutOfOrderMigrations) {
  TempDir dir;
  DatabaseOptions bad;
  bad.synchronous = "NORMAL; DROP TABLE t";
  auto db = Database::Open(dir.File("a.db"), bad);
  EXPECT_TRUE(absl::IsInvalidArgument(db.status())) << db.status();
  EXPECT_FALSE(std::filesystem::exists(dir.File("a.db"))) << "validated before opening";

  auto ok = Database::Open(dir.File("a.db"));
  ASSERT_TRUE(ok.ok());
  absl::Status s = (*ok)->Migrate({kMigrations[1], kMigrations[0]});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("out of order"), std::string::npos) << s;
}

}  // namespace
}  // namespace teleclaude::mesh
