// The outbox of events.db (doc/events-db.md "outbox", "mesh_outbox") on real
// SQLite files: mesh rows (one per event, the body once, a message id per
// peer), sender progress, the drop-oldest bound counted in messages, push
// rows, and the upgrade of a version-1 database that still holds rows.
#include "services/egress/storage/events_db.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/strings.h"
#include "common/sqlite/database.h"
#include "gtest/gtest.h"
#include "tests/services/egress/storage/events_db_v1.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh {
namespace {

using testing::TempDir;

class EventsDbTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    db_.reset();
    auto db = EventsDb::Open(dir_.File("events.db"));
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
  }

  int64_t AddMesh(std::string_view key, const std::vector<std::string_view>& peers) {
    auto id = db_->AddMeshOutbox(Cat("alpha/", key, "/"), peers, Cat("{\"key\":\"", key, "\"}"));
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : 0;
  }

  std::vector<OutboxRow> Rows(OutboxKind kind = OutboxKind::kMesh) {
    auto rows = EventsDb::ReadOutbox(db_->database(), kind, 0, 1000);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<OutboxRow>{};
  }

  // Every pending delivery: "message id <- body".
  std::string Pending(OutboxKind kind = OutboxKind::kMesh) {
    std::string out;
    for (const OutboxRow& r : Rows(kind)) {
      for (size_t i = r.done; i < r.destinations.size(); ++i) {
        CatTo(out, r.MessageIdFor(i), " <- ", r.body, "\n");
      }
    }
    return out;
  }

  int64_t Count(OutboxKind kind = OutboxKind::kMesh) {
    auto n = db_->CountOutbox(kind);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : -1;
  }

  TempDir dir_;
  std::unique_ptr<EventsDb> db_;
};

TEST_F(EventsDbTest, MeshRowStoresTheBodyOnceForAllItsPeers) {
  int64_t first = AddMesh("local:s:1-0", {"beta", "gamma", "delta"});
  int64_t second = AddMesh("local:s:2-0", {"beta"});
  EXPECT_GT(second, first);
  std::vector<OutboxRow> rows = Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].destinations, (std::vector<std::string>{"beta", "gamma", "delta"}));
  EXPECT_EQ(rows[0].done, 0);
  EXPECT_EQ(rows[0].pending(), 3);
  EXPECT_EQ(Pending(),
            "alpha/local:s:1-0/beta <- {\"key\":\"local:s:1-0\"}\n"
            "alpha/local:s:1-0/gamma <- {\"key\":\"local:s:1-0\"}\n"
            "alpha/local:s:1-0/delta <- {\"key\":\"local:s:1-0\"}\n"
            "alpha/local:s:2-0/beta <- {\"key\":\"local:s:2-0\"}\n");
  EXPECT_EQ(Count(), 4);
  // The body is stored once per event.
  auto stmt = db_->database()->Prepare("SELECT COUNT(*), SUM(length(body)) FROM mesh_outbox");
  ASSERT_TRUE(stmt.ok());
  ASSERT_TRUE(*stmt->Step());
  EXPECT_EQ(stmt->ColumnInt64(0), 2);
  EXPECT_EQ(stmt->ColumnInt64(1), rows[0].body.size() + rows[1].body.size());
  // Reading after an id, with a limit.
  auto after = EventsDb::ReadOutbox(db_->database(), OutboxKind::kMesh, first, 1);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ(after->front().id, second);
}

TEST_F(EventsDbTest, FinishOutboxDeletesFinishedRowsAndRecordsAPartlyFinishedOne) {
  int64_t r1 = AddMesh("k1", {"beta", "gamma", "delta"});
  int64_t r2 = AddMesh("k2", {"beta", "gamma", "delta"});
  int64_t r3 = AddMesh("k3", {"beta", "gamma"});
  // Row 1 whole, the first two peers of row 2.
  auto n = db_->FinishOutbox(OutboxKind::kMesh, OutboxProgress{r1, r2, 2});
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 5);
  EXPECT_EQ(Pending(),
            "alpha/k2/delta <- {\"key\":\"k2\"}\n"
            "alpha/k3/beta <- {\"key\":\"k3\"}\n"
            "alpha/k3/gamma <- {\"key\":\"k3\"}\n");
  EXPECT_EQ(Count(), 3);
  // The same report again (e.g. re-queued after a failed transaction)
  // changes nothing.
  n = db_->FinishOutbox(OutboxKind::kMesh, OutboxProgress{r1, r2, 2});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  // Row 2 now whole (only its last peer was left) and row 3's first peer.
  n = db_->FinishOutbox(OutboxKind::kMesh, OutboxProgress{r2, r3, 1});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(Pending(), "alpha/k3/gamma <- {\"key\":\"k3\"}\n");
  n = db_->FinishOutbox(OutboxKind::kMesh, OutboxProgress{r3, 0, 0});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(Count(), 0);
}

TEST_F(EventsDbTest, DropOldestDropsWholeRowsThenTheFirstPeersOfTheNext) {
  AddMesh("k1", {"beta", "gamma", "delta"});
  int64_t r2 = AddMesh("k2", {"beta", "gamma", "delta"});
  AddMesh("k3", {"beta"});
  ASSERT_TRUE(db_->FinishOutbox(OutboxKind::kMesh, OutboxProgress{0, r2 - 1, 1}).ok());
  EXPECT_EQ(Count(), 6);
  // k1's two pending peers, then k2's first two.
  auto dropped = db_->DropOldestOutbox(OutboxKind::kMesh, 4);
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  EXPECT_EQ(*dropped, 4);
  EXPECT_EQ(Pending(),
            "alpha/k2/delta <- {\"key\":\"k2\"}\n"
            "alpha/k3/beta <- {\"key\":\"k3\"}\n");
  EXPECT_EQ(Count(), 2);
  // More than there is: everything, counted as what was there.
  dropped = db_->DropOldestOutbox(OutboxKind::kMesh, 10);
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(*dropped, 2);
  EXPECT_EQ(Count(), 0);
  EXPECT_TRUE(Rows().empty());
}

TEST_F(EventsDbTest, PushRowsAreOneDeliveryEach) {
  auto p1 = db_->AddPushOutbox("installer", "alpha/k1/push/1", "body-1");
  auto p2 = db_->AddPushOutbox("installer", "alpha/k2/push/2", "body-2");
  ASSERT_TRUE(p1.ok() && p2.ok());
  // Push rows are never mesh rows (AddPushOutbox has no kind to get wrong).
  EXPECT_EQ(Pending(OutboxKind::kMesh), "");
  AddMesh("k3", {"beta"});  // mesh rows are elsewhere
  EXPECT_EQ(Pending(OutboxKind::kPush),
            "alpha/k1/push/1 <- body-1\n"
            "alpha/k2/push/2 <- body-2\n");
  EXPECT_EQ(Count(OutboxKind::kPush), 2);
  ASSERT_TRUE(db_->CountOutboxAttempt(OutboxKind::kPush, {*p1}).ok());
  EXPECT_EQ(Rows(OutboxKind::kPush)[0].attempts, 1);
  auto n = db_->FinishOutbox(OutboxKind::kPush, OutboxProgress{*p1, 0, 0});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(Pending(OutboxKind::kPush), "alpha/k2/push/2 <- body-2\n");
  EXPECT_EQ(Count(OutboxKind::kMesh), 1);
}

TEST(OutboxProgressTest, MergeKeepsTheFurthestReport) {
  OutboxProgress p{5, 7, 2};
  p.Merge(OutboxProgress{4, 5, 1});  // older
  EXPECT_EQ((std::vector<int64_t>{p.through_id, p.partial_id, p.partial_done}),
            (std::vector<int64_t>{5, 7, 2}));
  p.Merge(OutboxProgress{5, 7, 3});  // further into row 7
  EXPECT_EQ((std::vector<int64_t>{p.through_id, p.partial_id, p.partial_done}),
            (std::vector<int64_t>{5, 7, 3}));
  p.Merge(OutboxProgress{7, 0, 0});  // row 7 finished
  EXPECT_EQ((std::vector<int64_t>{p.through_id, p.partial_id, p.partial_done}),
            (std::vector<int64_t>{7, 0, 0}));
}

// A database written by release 1 (one outbox row per event and peer) with
// undelivered rows: after the upgrade every row is still there, in order,
// with its message id, body and attempts; push rows are untouched.
TEST(EventsDbUpgradeTest, UpgradesAVersion1DatabaseKeepingEveryUndeliveredRow) {
  TempDir dir;
  {
    auto v1 = Database::Open(dir.File("events.db"));
    ASSERT_TRUE(v1.ok()) << v1.status();
    ASSERT_TRUE((*v1)->Exec(testing::kEventsDbV1Schema).ok());
    ASSERT_TRUE((*v1)
                    ->Exec("INSERT INTO outbox (kind, destination, message_id, body, attempts, "
                           "created_at) VALUES "
                           "('mesh', 'beta', 'alpha/local:s:1-0/beta', '{\"n\":1}', 0, 't'),"
                           "('mesh', 'gamma', 'alpha/local:s:1-0/gamma', '{\"n\":1}', 0, 't'),"
                           "('push', 'installer', 'alpha/local:s:1-0/push/4', 'cHVzaA==', 2, 't'),"
                           "('mesh', 'beta', 'alpha/local:s:2-0/beta', '{\"n\":2}', 3, 't')")
                    .ok());
  }
  auto db = EventsDb::Open(dir.File("events.db"));
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(*(*db)->database()->UserVersion(), 2);
  auto mesh = EventsDb::ReadOutbox((*db)->database(), OutboxKind::kMesh, 0, 100);
  ASSERT_TRUE(mesh.ok()) << mesh.status();
  std::string got;
  for (const OutboxRow& r : *mesh) {
    ASSERT_EQ(r.destinations.size(), 1u);
    CatTo(got, r.id, " ", r.destinations[0], " ", r.MessageIdFor(0), " ", r.body, " ", r.attempts,
          "\n");
  }
  EXPECT_EQ(got,
            "1 beta alpha/local:s:1-0/beta {\"n\":1} 0\n"
            "2 gamma alpha/local:s:1-0/gamma {\"n\":1} 0\n"
            "4 beta alpha/local:s:2-0/beta {\"n\":2} 3\n");
  EXPECT_EQ(*(*db)->CountOutbox(OutboxKind::kMesh), 3);
  auto push = EventsDb::ReadOutbox((*db)->database(), OutboxKind::kPush, 0, 100);
  ASSERT_TRUE(push.ok());
  ASSERT_EQ(push->size(), 1u);
  EXPECT_EQ(push->front().id, 3);
  EXPECT_EQ(push->front().message_id, "alpha/local:s:1-0/push/4");
  EXPECT_EQ(push->front().attempts, 2);
  // New rows come after the old ones.
  auto next = (*db)->AddMeshOutbox("alpha/local:s:3-0/", {"beta", "gamma"}, "{\"n\":3}");
  ASSERT_TRUE(next.ok());
  EXPECT_GT(*next, 4);
}

}  // namespace
}  // namespace teleclaude::mesh
