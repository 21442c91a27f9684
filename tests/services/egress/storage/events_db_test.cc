// events.db on real SQLite files: the seen input keys (SeenIds); and the
// upgrades of databases written by releases 1 to 4 that still hold
// undelivered mesh messages and installer pushes into the delivery core's
// outboxes (common/delivery/outbox.h; doc/events-db.md).
#include "services/egress/storage/events_db.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/base/strings.h"
#include "common/delivery/outbox.h"
#include "common/sqlite/database.h"
#include "common/sqlite/transaction.h"
#include "gtest/gtest.h"
#include "tests/services/egress/storage/events_db_v1.h"
#include "tests/services/egress/storage/events_db_v3.h"
#include "tests/support/manual_clock.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh {
namespace {

using testing::TempDir;

// The mesh messages still waiting in a database, as the delivery core's
// outbox sees them: "seq destination message-id body", by destination then
// seq, and each destination's depth.
std::string MeshPending(Database* db) {
  auto s = db->Prepare(
      "SELECT o.seq, a.destinations, o.message_id, o.body FROM outbox_mesh o JOIN "
      "outbox_mesh_audiences a ON a.id = o.audience ORDER BY o.seq");
  EXPECT_TRUE(s.ok()) << s.status();
  auto c = db->Prepare("SELECT destination, next_seq FROM outbox_mesh_cursors");
  EXPECT_TRUE(c.ok()) << c.status();
  std::map<std::string, int64_t> cursors;
  while (c.ok() && *c->Step()) cursors[c->ColumnText(0)] = c->ColumnInt64(1);
  std::map<std::string, std::string> by_dest;
  while (s.ok() && *s->Step()) {
    for (const std::string& d : std::vector<std::string>(absl::StrSplit(s->ColumnText(1), '\n'))) {
      std::string dest(d);
      if (s->ColumnInt64(0) < cursors[dest]) continue;
      CatTo(by_dest[dest], s->ColumnInt64(0), " ", dest, " ", s->ColumnText(2), dest, " ",
            s->ColumnText(3), "\n");
    }
  }
  std::string out;
  for (const auto& [dest, lines] : by_dest) out += lines;
  return out;
}

// The installer pushes waiting: "seq destination message-id body" by seq.
std::string PushPending(Database* db) {
  auto s = db->Prepare(
      "SELECT o.seq, a.destinations, o.message_id, o.body FROM outbox_push o JOIN "
      "outbox_push_audiences a ON a.id = o.audience ORDER BY o.seq");
  EXPECT_TRUE(s.ok()) << s.status();
  std::string out;
  while (s.ok() && *s->Step()) {
    CatTo(out, s->ColumnInt64(0), " ", s->ColumnText(1), " ", s->ColumnText(2), " ",
          s->ColumnText(3), "\n");
  }
  return out;
}

std::map<std::string, int64_t> Depths(const Outbox& outbox) {
  std::map<std::string, int64_t> out;
  for (const DestinationStats& d : outbox.Stats()) out[d.destination] = d.depth;
  return out;
}

// A database written by release 1 (one outbox row per event and peer) with
// undelivered rows: after the upgrades every message is still there, in
// order per peer, with its message id and body; so is the push.
TEST(EventsDbUpgradeTest, UpgradesAVersion1DatabaseKeepingEveryUndeliveredMessage) {
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
  EXPECT_EQ(*(*db)->database()->UserVersion(), 5);
  EXPECT_EQ(MeshPending((*db)->database()),
            "1 beta alpha/local:s:1-0/beta {\"n\":1}\n"
            "4 beta alpha/local:s:2-0/beta {\"n\":2}\n"
            "2 gamma alpha/local:s:1-0/gamma {\"n\":1}\n");
  Outbox::Options options;
  options.name = "mesh";
  auto outbox = Outbox::Open((*db)->database(), options, nullptr, nullptr);
  ASSERT_TRUE(outbox.ok()) << outbox.status();
  EXPECT_EQ(Depths(**outbox), (std::map<std::string, int64_t>{{"beta", 2}, {"gamma", 1}}));
  EXPECT_EQ(PushPending((*db)->database()), "3 installer alpha/local:s:1-0/push/4 cHVzaA==\n");
  // New messages come after the old ones.
  EXPECT_GT((*outbox)->View()->end, 4);
}

// A database written by release 2 (mesh_outbox: one row per event for all its
// peers, `done` of them finished): the peers a partly finished row was
// already sent to do not get it again; the others do.
TEST(EventsDbUpgradeTest, UpgradesAVersion2DatabaseHonouringAPartlyFinishedRow) {
  TempDir dir;
  {
    auto v2 = Database::Open(dir.File("events.db"));
    ASSERT_TRUE(v2.ok()) << v2.status();
    ASSERT_TRUE((*v2)->Exec(testing::kEventsDbV1Schema).ok());
    ASSERT_TRUE((*v2)
                    ->Exec("CREATE TABLE mesh_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                           "deliveries INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0, attempts "
                           "INTEGER NOT NULL DEFAULT 0, peers TEXT NOT NULL, message_id_prefix "
                           "TEXT NOT NULL, body BLOB NOT NULL, created_at TEXT NOT NULL);"
                           "INSERT INTO mesh_outbox (id, deliveries, done, peers, "
                           "message_id_prefix, body, created_at) VALUES "
                           "(7, 3, 2, 'beta gamma delta', 'alpha/k1/', 'b1', "
                           "'2025-03-01T12:00:00+00:00'),"
                           "(8, 2, 0, 'beta gamma', 'alpha/k2/', 'b2', "
                           "'2025-03-01T12:00:01+00:00');"
                           "PRAGMA user_version=2;")
                    .ok());
  }
  auto db = EventsDb::Open(dir.File("events.db"));
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(*(*db)->database()->UserVersion(), 5);
  EXPECT_EQ(MeshPending((*db)->database()),
            "8 beta alpha/k2/beta b2\n"
            "7 delta alpha/k1/delta b1\n"
            "8 gamma alpha/k2/gamma b2\n");
  Outbox::Options options;
  options.name = "mesh";
  auto outbox = Outbox::Open((*db)->database(), options, nullptr, nullptr);
  ASSERT_TRUE(outbox.ok()) << outbox.status();
  EXPECT_EQ(Depths(**outbox),
            (std::map<std::string, int64_t>{{"beta", 1}, {"delta", 1}, {"gamma", 1}}));
}

// Every table of the database that is not SQLite's own, in name order.
std::string Tables(Database* db) {
  auto s = db->Prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
      "ORDER BY name");
  EXPECT_TRUE(s.ok()) << s.status();
  std::string out;
  while (s.ok() && *s->Step()) CatTo(out, s->ColumnText(0), " ");
  return out;
}

// A database written by release 3 (processed_inputs, keys stamped in Unix
// ms): migration 4 carries every input key into seen_ids as it is, with its
// time, and drops processed_inputs. A redelivered input is still recognised
// right after the upgrade; keys expire by when they were first seen.
TEST(EventsDbUpgradeTest, MigrationFourCarriesProcessedInputsIntoSeenIdsWithTheirTimes) {
  TempDir dir;
  const absl::Time now = absl::FromUnixMillis(absl::ToUnixMillis(absl::Now()));
  const int64_t hour_ago = absl::ToUnixMillis(now - absl::Hours(1));
  const int64_t long_ago = absl::ToUnixMillis(now - absl::Hours(24 * 8));  // beyond 7 days
  {
    auto v3 = Database::Open(dir.File("events.db"));
    ASSERT_TRUE(v3.ok()) << v3.status();
    ASSERT_TRUE((*v3)->Exec(testing::kEventsDbV1Schema).ok());
    ASSERT_TRUE((*v3)->Exec(testing::kEventsDbV3Additions).ok());
    ASSERT_TRUE((*v3)
                    ->Exec(Cat("INSERT INTO processed_inputs (input_key, processed_at) VALUES "
                               "('local:teleclaude:events:alpha:1712-0', ",
                               hour_ago,
                               "),"
                               "('mesh:beta/local:teleclaude:events:beta:1700-3/alpha', ",
                               hour_ago,
                               "),"
                               "('submit:installer:i1:o7', ",
                               hour_ago,
                               "),"
                               "('submit:rejected:1712-9', ",
                               long_ago, ")"))
                    .ok());
  }
  testing::ManualClock clock(now);
  auto db = EventsDb::Open(dir.File("events.db"), {.clock = &clock});
  ASSERT_TRUE(db.ok()) << db.status();
  Database* sql = (*db)->database();
  EXPECT_EQ(*sql->UserVersion(), 5);
  EXPECT_EQ(Tables(sql),
            "notifications outbox_mesh outbox_mesh_audiences outbox_mesh_cursors outbox_push "
            "outbox_push_audiences outbox_push_cursors seen_ids ");

  // The whole ledger, times relative to the upgrade.
  auto ledger = [&]() {
    std::string out;
    auto s = sql->Prepare("SELECT id, seen_ms FROM seen_ids ORDER BY id");
    EXPECT_TRUE(s.ok()) << s.status();
    while (s.ok() && *s->Step()) {
      const int64_t ms = s->ColumnInt64(1);
      CatTo(out, s->ColumnText(0), "@",
            ms == hour_ago                  ? "hour_ago"
            : ms == long_ago                ? "long_ago"
            : ms == absl::ToUnixMillis(now) ? "now"
                                            : Cat("?", ms),
            "\n");
    }
    return out;
  };
  EXPECT_EQ(ledger(),
            "local:teleclaude:events:alpha:1712-0@hour_ago\n"
            "mesh:beta/local:teleclaude:events:beta:1700-3/alpha@hour_ago\n"
            "submit:installer:i1:o7@hour_ago\n"
            "submit:rejected:1712-9@long_ago\n");

  // Redelivered inputs have no second effect; a new key is new.
  {
    auto txn = Transaction::Begin(sql);
    ASSERT_TRUE(txn.ok());
    for (const char* key :
         {"local:teleclaude:events:alpha:1712-0",
          "mesh:beta/local:teleclaude:events:beta:1700-3/alpha", "submit:installer:i1:o7"}) {
      auto fresh = (*db)->MarkInputProcessed(key);
      ASSERT_TRUE(fresh.ok()) << fresh.status();
      EXPECT_FALSE(*fresh) << key;
    }
    auto fresh = (*db)->MarkInputProcessed("local:teleclaude:events:alpha:1712-1");
    ASSERT_TRUE(fresh.ok()) << fresh.status();
    EXPECT_TRUE(*fresh);
    // The kinds never collide: the same entry id as a mesh key is new.
    fresh = (*db)->MarkInputProcessed("mesh:teleclaude:events:alpha:1712-0");
    ASSERT_TRUE(fresh.ok()) << fresh.status();
    EXPECT_TRUE(*fresh);
    ASSERT_TRUE(txn->Commit().ok());
  }

  // Pruning forgets what was first seen more than 7 days ago, and only that.
  EXPECT_FALSE((*db)->seen_inputs().RunIfDue(clock.Now()));
  EXPECT_EQ((*db)->seen_inputs().pruned(), 1);
  EXPECT_EQ(ledger(),
            "local:teleclaude:events:alpha:1712-0@hour_ago\n"
            "local:teleclaude:events:alpha:1712-1@now\n"
            "mesh:beta/local:teleclaude:events:beta:1700-3/alpha@hour_ago\n"
            "mesh:teleclaude:events:alpha:1712-0@now\n"
            "submit:installer:i1:o7@hour_ago\n");
}

// Release 4 kept installer pushes in `outbox` (one row per push, deleted
// when delivered): each waiting row becomes a message of the outbox "push"
// with its id as seq, in order, and new pushes come after them.
TEST(EventsDbUpgradeTest, MigrationFiveCarriesWaitingPushesIntoThePushOutbox) {
  TempDir dir;
  {
    auto v3 = Database::Open(dir.File("events.db"));
    ASSERT_TRUE(v3.ok()) << v3.status();
    ASSERT_TRUE((*v3)->Exec(testing::kEventsDbV1Schema).ok());
    ASSERT_TRUE((*v3)->Exec(testing::kEventsDbV3Additions).ok());
    ASSERT_TRUE((*v3)
                    ->Exec("INSERT INTO outbox (id, kind, destination, message_id, body, attempts, "
                           "created_at) VALUES "
                           "(7, 'push', 'installer', 'alpha/local:s:1-0/push/4', 'cHVzaDE=', 0, "
                           "'2026-12-01T10:00:00.000000+00:00'),"
                           "(9, 'push', 'installer', 'resolve:alpha:4:1712', 'cHVzaDI=', 5, "
                           "'2026-12-01T10:00:01.000000+00:00'),"
                           "(12, 'push', 'installer', 'alpha/local:s:3-0/push/6', 'cHVzaDM=', 0, "
                           "'not a time')")
                    .ok());
  }
  auto db = EventsDb::Open(dir.File("events.db"));
  ASSERT_TRUE(db.ok()) << db.status();
  Database* sql = (*db)->database();
  EXPECT_EQ(*sql->UserVersion(), 5);
  EXPECT_EQ(PushPending(sql),
            "7 installer alpha/local:s:1-0/push/4 cHVzaDE=\n"
            "9 installer resolve:alpha:4:1712 cHVzaDI=\n"
            "12 installer alpha/local:s:3-0/push/6 cHVzaDM=\n");
  auto created = sql->Prepare("SELECT created_ms FROM outbox_push ORDER BY seq");
  ASSERT_TRUE(created.ok()) << created.status();
  std::vector<int64_t> ms;
  while (*created->Step()) ms.push_back(created->ColumnInt64(0));
  EXPECT_EQ(
      ms, (std::vector<int64_t>{absl::ToUnixMillis(absl::FromCivil(
                                    absl::CivilSecond(2026, 12, 1, 10, 0, 0), absl::UTCTimeZone())),
                                absl::ToUnixMillis(absl::FromCivil(
                                    absl::CivilSecond(2026, 12, 1, 10, 0, 1), absl::UTCTimeZone())),
                                0}));
  auto outbox = Outbox::Open(sql, {.name = "push"}, nullptr, nullptr);
  ASSERT_TRUE(outbox.ok()) << outbox.status();
  EXPECT_EQ(Depths(**outbox), (std::map<std::string, int64_t>{{"installer", 3}}));
  EXPECT_EQ((*outbox)->View()->end, 13);
}

// A database written by release 1 reaches the current version in one open
// and keeps its input keys too.
TEST(EventsDbUpgradeTest, UpgradesAVersion1DatabaseKeepingItsInputKeys) {
  TempDir dir;
  const int64_t at = absl::ToUnixMillis(absl::Now()) - 5000;
  {
    auto v1 = Database::Open(dir.File("events.db"));
    ASSERT_TRUE(v1.ok()) << v1.status();
    ASSERT_TRUE((*v1)->Exec(testing::kEventsDbV1Schema).ok());
    ASSERT_TRUE((*v1)
                    ->Exec(Cat("INSERT INTO processed_inputs (input_key, processed_at) VALUES "
                               "('local:s:1-0', ",
                               at, ")"))
                    .ok());
  }
  auto db = EventsDb::Open(dir.File("events.db"));
  ASSERT_TRUE(db.ok()) << db.status();
  auto seen = (*db)->seen_inputs().Contains("local:s:1-0");
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_TRUE(*seen);
  auto fresh = (*db)->MarkInputProcessed("local:s:1-0");
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_FALSE(*fresh);
}

}  // namespace
}  // namespace teleclaude::mesh
