// InstallerDb against a real SQLite file: migrations (doc/installer-db.md) and
// rows read back are checked.
#include "services/installer/installer_db.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/delivery/outbox.h"
#include "common/sqlite/database.h"
#include "gtest/gtest.h"
#include "services/installer/egress_transport.h"
#include "tests/services/installer/installer_test_util.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::TempDir;

TEST(InstallerDbTest, MigrationThreeRecordsOlderRowsAsUnsigned) {
  TempDir dir;
  const std::string path = (dir.path() / "installer.db").string();
  {
    // A database as the previous release left it: schema version 2, one row.
    auto db = testing::InstallerDbAtVersion(path, 2);
    ASSERT_TRUE(db.ok()) << db.status();
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
    auto db = testing::InstallerDbAtVersion(path, 3);
    ASSERT_TRUE(db.ok()) << db.status();
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
  EXPECT_EQ((*db)->schema_version(), InstallerDbMigrations().back().version);

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

// Migration 5: the messages a version-4 installer.db still had for egress
// move into the delivery core's outbox (outbox_egress) in order, each with
// the message id it had (installer:{instance_id}:{id}), so a message egress
// already took before the upgrade is dropped by egress as a copy; the old
// table goes. New messages get ids of their own (installer:{instance_id}:o...).
TEST(InstallerDbTest, MigrationFiveCarriesWaitingMessagesIntoTheEgressOutbox) {
  TempDir dir;
  const std::string path = (dir.path() / "installer.db").string();
  {
    auto db = testing::InstallerDbAtVersion(path, 4);
    ASSERT_TRUE(db.ok()) << db.status();
    absl::Status inserted = (*db)->Exec(
        "INSERT INTO meta (key, value) VALUES ('instance_id', 'abc123');"
        "INSERT INTO outbox (id, kind, event_type, envelope_json, cartridge_name, "
        "cartridge_sha256, created_at) VALUES (4, 'submit', 'cartridge.installed', "
        "'{\"event\":\"cartridge.installed\",\"x\":\"a\\\"b\"}', 'ping', 'ab', "
        "'2026-12-01T10:00:00.000000Z');"
        "INSERT INTO outbox (id, kind, cartridge_name, cartridge_sha256, notification_id, "
        "resolution_json, created_at) VALUES (6, 'resolve', 'ping', 'ab', 17, "
        "'{\"decision\":\"approve\"}', 'garbled');"
        "INSERT INTO outbox (id, kind, created_at) VALUES (9, 'reload', "
        "'2026-12-01T10:00:01Z');");
    ASSERT_TRUE(inserted.ok()) << inserted;
  }
  auto db = InstallerDb::Open(path);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->schema_version(), InstallerDbMigrations().back().version);
  EXPECT_EQ((*db)->instance_id(), "abc123");

  std::string rows;
  {
    auto st = (*db)->database()->Prepare(
        "SELECT seq, audience, message_id, body FROM outbox_egress ORDER BY seq");
    ASSERT_TRUE(st.ok()) << st.status();
    for (;;) {
      auto row = st->Step();
      ASSERT_TRUE(row.ok()) << row.status();
      if (!*row) break;
      auto m = DecodeEgressMessage(st->ColumnText(3));
      ASSERT_TRUE(m.ok()) << m.status();
      absl::StrAppend(&rows, st->ColumnInt64(0), " ", st->ColumnText(2), st->ColumnInt64(0), " ",
                      std::string(OutboxKindName(m->kind)), " [", m->event_type, "] [",
                      m->envelope_json, "] [", m->cartridge_name, "/", m->cartridge_sha256, "] ",
                      m->notification_id, " [", m->resolution_json, "]\n");
    }
  }
  EXPECT_EQ(rows,
            "4 installer:abc123:4 submit [cartridge.installed] "
            "[{\"event\":\"cartridge.installed\",\"x\":\"a\\\"b\"}] [ping/ab] 0 []\n"
            "6 installer:abc123:6 resolve [] [] [ping/ab] 17 [{\"decision\":\"approve\"}]\n"
            "9 installer:abc123:9 reload [] [] [/] 0 []\n");
  {
    auto st = (*db)->database()->Prepare("SELECT 1 FROM sqlite_master WHERE name = 'outbox'");
    ASSERT_TRUE(st.ok()) << st.status();
    auto row = st->Step();
    ASSERT_TRUE(row.ok()) << row.status();
    EXPECT_FALSE(*row) << "the old outbox table is still there";
  }
  // The delivery core reads them as three messages waiting for egress.
  auto outbox = Outbox::Open((*db)->database(), {.name = std::string(kEgressOutboxName)},
                             /*writer=*/nullptr, /*observer=*/nullptr);
  ASSERT_TRUE(outbox.ok()) << outbox.status();
  EXPECT_EQ((*outbox)->Totals().depth, 3);
}

// A body this program did not write (a damaged or edited file) is refused
// with an error naming what is wrong, never sent as something else.
TEST(EgressMessageTest, RefusesBodiesItDidNotWriteNamingTheField) {
  for (const auto& [body, error] : std::vector<std::pair<std::string, std::string>>{
           {"not json", "installer outbox message"},
           {"[]", "not an object"},
           {R"({"kind":"bogus"})", "kind: "},
           {R"({"kind":"push"})", "kind: push is egress's"},
           {R"({"kind":"submit","envelope_json":3})", "envelope_json: not a string"},
           {R"({"kind":"resolve","notification_id":"7"})", "notification_id: not an integer"},
       }) {
    auto m = DecodeEgressMessage(body);
    ASSERT_FALSE(m.ok()) << body;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss) << body;
    EXPECT_NE(m.status().message().find(error), std::string::npos) << m.status();
  }
  EgressMessage in;
  in.kind = OutboxKind::kResolve;
  in.cartridge_name = "ping";
  in.cartridge_sha256 = "ab";
  in.notification_id = 12;
  in.resolution_json = R"({"decision":"reject","decided_by":"x\n"})";
  auto out = DecodeEgressMessage(EncodeEgressMessage(in));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(EncodeEgressMessage(*out), EncodeEgressMessage(in));
  EXPECT_EQ(out->resolution_json, in.resolution_json);
}

}  // namespace
}  // namespace teleclaude::mesh
