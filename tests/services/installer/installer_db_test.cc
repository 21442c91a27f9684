// InstallerDb against a real SQLite file: migrations (doc/installer-db.md) and
// rows read back are checked.
#include "services/installer/installer_db.h"

#include <string>
#include <vector>

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
  EXPECT_EQ((*db)->schema_version(), 3);
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
