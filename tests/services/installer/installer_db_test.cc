// InstallerDb against a real SQLite file: rows read back are checked.
#include "services/installer/installer_db.h"

#include "common/sqlite/database.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh {
namespace {

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
