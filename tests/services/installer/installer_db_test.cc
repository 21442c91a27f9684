// InstallerDb against a real SQLite file: migrations (doc/installer-db.md) and
// rows read back are checked.
#include "services/installer/installer_db.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/sqlite/database.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::TempDir;

TEST(InstallerDbTest, MigrationThreeRecordsOlderRowsAsUnsigned) {
  TempDir dir;
  const std::string path = (dir.path() / "installer.db").string();
  {
    // A database as the previous release left it: schema version 2, one row.
    auto db = Database::Open(path);
    ASSERT_TRUE(db.ok()) << db.status();
    std::vector<Migration> v2(InstallerDbMigrations().begin(), InstallerDbMigrations().begin() + 2);
    ASSERT_EQ(v2.back().version, 2);
    ASSERT_TRUE((*db)->Migrate(v2).ok());
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO cartridges (name, sha256, version, author, runtime, "
                           "source, status, created_at, updated_at) VALUES ('ping', 'ab', '1', "
                           "'alice', 'lua', 'return 1', 'active', 't', 't')")
                    .ok());
  }
  auto db = InstallerDb::Open(path);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->schema_version(), InstallerDbMigrations().back().version);
  auto rows = (*db)->List(/*with_source=*/true);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  const CartridgeRecord& r = rows->front();
  EXPECT_EQ(r.cartridge.name, "ping");
  EXPECT_EQ(r.cartridge.source, "return 1");
  EXPECT_EQ(r.status, RegistryStatus::kActive);
  EXPECT_EQ(r.signature.status, SignatureStatus::kUnsigned);
  EXPECT_EQ(r.signature.message,
            "registered before this installer checked signatures (installer.db migration 3)");
  EXPECT_EQ(r.signature.author_fingerprint, "");

  // New rows keep what the check found.
  CartridgeRecord fresh;
  fresh.cartridge.name = "pong";
  fresh.cartridge.sha256 = "cd";
  fresh.cartridge.version = "1";
  fresh.cartridge.author = "me";
  fresh.cartridge.runtime = "lua";
  fresh.cartridge.source = "return 2";
  fresh.created_at = fresh.updated_at = "t";
  fresh.signature = {SignatureStatus::kKeyMismatch, "author_key: x is not ...", "abcd"};
  ASSERT_TRUE((*db)->Insert(fresh).ok());
  auto found = (*db)->Find("pong", "cd");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->signature.status, SignatureStatus::kKeyMismatch);
  EXPECT_EQ((*found)->signature.message, "author_key: x is not ...");
  EXPECT_EQ((*found)->signature.author_fingerprint, "abcd");
}

// Migration 4: the handled push ids and applied batch ids of a version-3
// database move into seen_ids with their times (so a push redelivered right
// after the upgrade is still recognised), the old tables go, and the ids
// expire by the time they were first seen, not by the upgrade.
TEST(InstallerDbTest, MigrationFourCarriesHandledIdsIntoSeenIdsWithTheirTimes) {
  TempDir dir;
  const std::string path = (dir.path() / "installer.db").string();
  const absl::Time hour_ago =
      absl::FromUnixMillis(absl::ToUnixMillis(absl::Now())) - absl::Hours(1);
  const absl::Time long_ago = hour_ago - absl::Hours(24 * 8);  // beyond the 7-day window
  auto iso = [](absl::Time t) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
  };
  {
    // A database as the previous release left it: schema version 3.
    auto db = Database::Open(path);
    ASSERT_TRUE(db.ok()) << db.status();
    std::vector<Migration> v3(InstallerDbMigrations().begin(), InstallerDbMigrations().begin() + 3);
    ASSERT_EQ(v3.back().version, 3);
    ASSERT_TRUE((*db)->Migrate(v3).ok());
    absl::Status inserted = (*db)->Exec(absl::StrCat(
        "INSERT INTO handled_pushes (push_id, handled_at) VALUES ('n1', '", iso(hour_ago),
        "'), ('old', '", iso(long_ago), "'), ('garbled', 'not a time');",
        "INSERT INTO applied_invocation_batches (batch_id, applied_at) VALUES ('b1', '",
        iso(hour_ago), "');"));
    ASSERT_TRUE(inserted.ok()) << inserted;
  }
  const absl::Time opened = absl::Now();
  auto db = InstallerDb::Open(path);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->schema_version(), 4);

  // The whole ledger, times relative to the first hour-ago id.
  auto ledger = [&]() {
    std::string out;
    auto st = (*db)->database()->Prepare("SELECT id, seen_ms FROM seen_ids ORDER BY id");
    EXPECT_TRUE(st.ok()) << st.status();
    for (;;) {
      auto row = st->Step();
      EXPECT_TRUE(row.ok()) << row.status();
      if (!row.ok() || !*row) break;
      const int64_t ms = st->ColumnInt64(1);
      std::string when = ms == absl::ToUnixMillis(hour_ago)   ? "hour_ago"
                         : ms == absl::ToUnixMillis(long_ago) ? "long_ago"
                         : (ms >= absl::ToUnixMillis(opened) - 1000 &&
                            ms <= absl::ToUnixMillis(absl::Now()) + 1000)
                             ? "upgrade"
                             : absl::StrCat("?", ms);
      absl::StrAppend(&out, st->ColumnText(0), "@", when, " ");
    }
    return out;
  };
  EXPECT_EQ(ledger(),
            "invocations:b1@hour_ago push:garbled@upgrade push:n1@hour_ago push:old@long_ago ");
  for (const char* gone : {"handled_pushes", "applied_invocation_batches"}) {
    auto st = (*db)->database()->Prepare(
        absl::StrCat("SELECT 1 FROM sqlite_master WHERE name = '", gone, "'"));
    ASSERT_TRUE(st.ok()) << st.status();
    auto row = st->Step();
    ASSERT_TRUE(row.ok()) << row.status();
    EXPECT_FALSE(*row) << gone << " is still there";
  }

  // Recognised as handled: no second effect.
  auto handled = (*db)->IsPushHandled("n1");
  ASSERT_TRUE(handled.ok()) << handled.status();
  EXPECT_TRUE(*handled);
  absl::StatusOr<bool> fresh_push = false, fresh_batch = false, new_batch = false;
  ASSERT_TRUE((*db)
                  ->InTransaction([&] {
                    fresh_push = (*db)->MarkPushHandled("n1");
                    fresh_batch = (*db)->MarkBatchApplied("b1");
                    new_batch = (*db)->MarkBatchApplied("b2");
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_TRUE(fresh_push.ok() && fresh_batch.ok() && new_batch.ok());
  EXPECT_FALSE(*fresh_push);
  EXPECT_FALSE(*fresh_batch);
  EXPECT_TRUE(*new_batch);
  // A push id and a batch id never collide.
  auto batch_named_like_push = (*db)->IsPushHandled("b1");
  ASSERT_TRUE(batch_named_like_push.ok());
  EXPECT_FALSE(*batch_named_like_push);

  // Pruning (the chore the installer's writer runs) forgets what was first
  // seen more than 7 days ago, and only that.
  EXPECT_FALSE((*db)->seen_ids().RunIfDue(absl::Now()));
  EXPECT_EQ((*db)->seen_ids().pruned(), 1);
  EXPECT_EQ(ledger(),
            "invocations:b1@hour_ago invocations:b2@upgrade push:garbled@upgrade "
            "push:n1@hour_ago ");
}

// A row whose kind is not one the installer writes (a damaged or edited
// file) stops the outbox with an error naming the row, instead of being
// sent as something else.
TEST(InstallerDbTest, AnOutboxRowOfUnknownKindIsAnErrorNotASubmit) {
  testing::TempDir dir;
  const std::string path = dir.File("installer.db");
  int64_t id = 0;
  {
    auto db = InstallerDb::Open(path);
    ASSERT_TRUE(db.ok()) << db.status();
    OutboxItem item;
    item.kind = OutboxKind::kReload;
    auto enqueued = (*db)->Enqueue(item);
    ASSERT_TRUE(enqueued.ok()) << enqueued.status();
    id = *enqueued;
    auto peeked = (*db)->PeekOutbox(10);
    ASSERT_TRUE(peeked.ok()) << peeked.status();
    ASSERT_EQ(peeked->size(), 1u);
    EXPECT_EQ((*peeked)[0].kind, OutboxKind::kReload);
  }
  for (const char* kind : {"bogus", "push"}) {
    {
      auto raw = Database::Open(path, DatabaseOptions{});
      ASSERT_TRUE(raw.ok()) << raw.status();
      // The table's CHECK keeps the installer from writing it; a file
      // written by something else need not have obeyed it.
      ASSERT_TRUE((*raw)->Exec("PRAGMA ignore_check_constraints = ON").ok());
      absl::Status updated = (*raw)->Exec(std::string("UPDATE outbox SET kind = '") + kind + "'");
      ASSERT_TRUE(updated.ok()) << updated;
    }
    auto db = InstallerDb::Open(path);
    ASSERT_TRUE(db.ok()) << db.status();
    auto peeked = (*db)->PeekOutbox(10);
    ASSERT_FALSE(peeked.ok()) << kind;
    EXPECT_EQ(peeked.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(peeked.status().message().find("outbox row " + std::to_string(id)), std::string::npos)
        << peeked.status();
  }
}

}  // namespace
}  // namespace teleclaude::mesh
