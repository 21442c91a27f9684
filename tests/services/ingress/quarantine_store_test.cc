// ingress.db quarantined_events on a real SQLite file.
#include "services/ingress/quarantine_store.h"

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh {
namespace {

QuarantineRecord Record(std::string entry_id, std::string type) {
  QuarantineRecord r;
  r.stream_entry_id = std::move(entry_id);
  r.source_computer = "alpha";
  r.envelope.event = std::move(type);
  r.envelope.source = "daemon";
  r.envelope.level = Level::kOperational;
  r.flags = {"unknown_source"};
  return r;
}

TEST(QuarantineStoreTest, StoresOncePerStreamEntryAndListsNewestFirst) {
  testing::TempDir dir;
  const std::string path = dir.File("ingress.db");
  {
    auto store = QuarantineStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    auto ids = (*store)->InsertBatch({Record("1-0", "a.one"), Record("2-0", "a.two")});
    ASSERT_TRUE(ids.ok()) << ids.status();
    ASSERT_EQ(ids->size(), 2u);
    // A replayed batch (crash before XACK) stores nothing new and gets the same ids.
    auto again = (*store)->InsertBatch({Record("2-0", "a.two"), Record("3-0", "a.three")});
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ((*again)[0], (*ids)[1]);
  }
  auto reopened = QuarantineStore::Open(path);  // migrations are idempotent
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto listed = (*reopened)->List(0, 0);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].event_type(), "a.three");
  EXPECT_EQ((*listed)[2].event_type(), "a.one");
  EXPECT_EQ((*listed)[2].source(), "daemon");
  ASSERT_EQ((*listed)[2].trust_flags_size(), 1);
  EXPECT_EQ((*listed)[2].trust_flags(0), "unknown_source");
  EXPECT_FALSE((*listed)[2].reviewed());
  EXPECT_NE((*listed)[2].envelope_json().find("\"event\":\"a.one\""), std::string::npos);
  auto page = (*reopened)->List(1, 1);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].event_type(), "a.two");
}

TEST(QuarantineStoreTest, UnusablePathIsAClearError) {
  auto store = QuarantineStore::Open("/nonexistent-dir/x/ingress.db");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(std::string(store.status().message()).find("/nonexistent-dir/x/ingress.db"),
            std::string::npos)
      << store.status();
}

}  // namespace
}  // namespace teleclaude::mesh
