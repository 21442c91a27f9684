// The real telec-installer binary, driven over gRPC as egress and telec
// would, with a real gRPC Pipeline server (RecordingPipeline) as egress.
#include <grpcpp/client_context.h>

#include <filesystem>

#include "common/grpc/channel.h"
#include "common/json/json_text.h"
#include "common/sqlite/database.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/installer/installer_db.h"
#include "services/installer/installer_events.h"
#include "teleclaude/mesh/v1/installer.grpc.pb.h"
#include "tests/services/installer/installer_fixtures.h"
#include "tests/services/installer/installer_test_util.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
#include "tests/support/local_auth.h"
#include "tests/support/membership_pins.h"
#include "tests/support/recording_pipeline.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::AliceKey;
using ::teleclaude::mesh::testing::Batch;
using ::teleclaude::mesh::testing::ChildOptions;
using ::teleclaude::mesh::testing::ChildProcess;
using ::teleclaude::mesh::testing::FilesUnder;
using ::teleclaude::mesh::testing::FreeLoopbackPort;
using ::teleclaude::mesh::testing::kCleanLua;
using ::teleclaude::mesh::testing::kEvilLua;
using ::teleclaude::mesh::testing::PublishedPayload;
using ::teleclaude::mesh::testing::PublishedPush;
using ::teleclaude::mesh::testing::RecordingPipeline;
using ::teleclaude::mesh::testing::RecordingPipelineServer;
using ::teleclaude::mesh::testing::SignedPayload;
using ::teleclaude::mesh::testing::TempDir;
using ::teleclaude::mesh::testing::WaitFor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class InstallerBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    installer_port_ = FreeLoopbackPort();
    const std::string addr = "127.0.0.1:" + std::to_string(installer_port_);
    // What egress calls (the services' token); the human gate is the owner's.
    stub_ = v1::Installer::NewStub(testing::ServiceChannel(addr, data()));
    owner_ = v1::Installer::NewStub(testing::OwnerChannel(addr, data()));
  }

  std::filesystem::path data() const { return dir_.path() / "data"; }

  void StartInstaller(const std::string& level) {
    // alice, the author of the test payloads, is a known computer.
    ASSERT_TRUE(
        testing::PinPeerKey(data() / "membership.db", "alice", AliceKey().public_key()).ok());
    ChildOptions o;
    o.args = {TM_INSTALLER_BIN,
              "--computer_name=me",
              "--data_dir=" + data().string(),
              "--installer_addr=127.0.0.1:" + std::to_string(installer_port_),
              "--egress_addr=" + egress_.addr(),
              "--cartridge_install=" + level,
              "--promotion_threshold=10",
              "--max_cartridge_bytes=4096"};
    auto child = ChildProcess::Start(o);
    ASSERT_TRUE(child.ok()) << child.status();
    child_ = *std::move(child);
    ASSERT_TRUE(WaitFor(
        [&] {
          v1::GetStatsResponse r;
          grpc::ClientContext c;
          c.set_wait_for_ready(true);
          c.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(500)));
          return stub_->GetStats(&c, v1::GetStatsRequest(), &r).ok();
        },
        absl::Seconds(10)))
        << child_->ReadLog();
  }

  grpc::Status Push(const v1::OnNotificationRequest& request) {
    grpc::ClientContext c;
    v1::OnNotificationResponse r;
    return stub_->OnNotification(&c, request, &r);
  }

  v1::Cartridge Get(const std::string& name) {
    grpc::ClientContext c;
    v1::GetCartridgeRequest req;
    req.set_name(name);
    v1::Cartridge out;
    grpc::Status s = stub_->GetCartridge(&c, req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  v1::GetStatsResponse Stats() {
    grpc::ClientContext c;
    v1::GetStatsResponse out;
    EXPECT_TRUE(stub_->GetStats(&c, v1::GetStatsRequest(), &out).ok());
    return out;
  }

  bool Drained() {
    return WaitFor([&] { return Stats().events_unsent() == 0; }, absl::Seconds(10));
  }

  v1::RecordInvocationsResponse Record(const std::string& batch, const std::string& name,
                                       int entries, int64_t each) {
    v1::RecordInvocationsRequest req;
    req.set_batch_id(batch);
    for (int i = 0; i < entries; ++i) {
      auto* c = req.add_counts();
      c->set_cartridge_name(name);
      c->set_count(each);
    }
    grpc::ClientContext c;
    v1::RecordInvocationsResponse out;
    grpc::Status s = stub_->RecordInvocations(&c, req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  TempDir dir_;
  RecordingPipelineServer egress_;
  RecordingPipeline& recorder_ = egress_.pipeline();
  int installer_port_ = 0;
  std::unique_ptr<v1::Installer::Stub> stub_;
  std::unique_ptr<v1::Installer::Stub> owner_;
  std::unique_ptr<ChildProcess> child_;
};

TEST_F(InstallerBinaryTest, L1PendsUntilAHumanActivatesThenAudits) {
  StartInstaller("L1");
  ASSERT_TRUE(Push(Batch({PublishedPush("p1", 7, PublishedPayload("ping", kCleanLua)),
                          PublishedPush("p2", 8, PublishedPayload("pong", "return 2"))}))
                  .ok());
  EXPECT_EQ(Get("ping").status(), v1::CARTRIDGE_STATUS_PENDING);
  EXPECT_THAT(FilesUnder(data() / "cartridges"),
              ElementsAre("incoming/ping.lua", "incoming/pong.lua"));
  ASSERT_TRUE(Drained());
  ASSERT_EQ(recorder_.Events("cartridge.install_pending").size(), 2u);
  EXPECT_THAT(recorder_.Events("cartridge.installed"), IsEmpty());
  {
    grpc::ClientContext c;
    v1::ListActiveResponse active;
    ASSERT_TRUE(stub_->ListActive(&c, v1::ListActiveRequest(), &active).ok());
    EXPECT_EQ(active.cartridges_size(), 0);
  }
  {
    grpc::ClientContext c;
    v1::ActivateRequest req;
    req.set_name("ping");
    v1::Cartridge out;
    ASSERT_TRUE(owner_->Activate(&c, req, &out).ok());
    EXPECT_EQ(out.status(), v1::CARTRIDGE_STATUS_ACTIVE);
  }
  {
    grpc::ClientContext c;
    v1::RejectRequest req;
    req.set_name("pong");
    v1::Cartridge out;
    ASSERT_TRUE(owner_->Reject(&c, req, &out).ok());
    EXPECT_EQ(out.status(), v1::CARTRIDGE_STATUS_REJECTED);
  }
  {
    grpc::ClientContext c;
    v1::ActivateRequest req;
    req.set_name("nope");
    v1::Cartridge out;
    grpc::Status s = owner_->Activate(&c, req, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(s.error_message(), HasSubstr("see `telec cartridges list`"));
  }
  {
    grpc::ClientContext c;
    v1::RejectRequest req;
    req.set_name("ping");
    v1::Cartridge out;
    EXPECT_EQ(owner_->Reject(&c, req, &out).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  }
  EXPECT_THAT(FilesUnder(data() / "cartridges"), ElementsAre("ping.lua"));
  std::vector<std::string> audit;
  v1::Cartridge ping = Get("ping");
  for (const auto& a : ping.audit()) audit.push_back(a.action() + ":" + a.actor());
  // Unsigned: L1 would pend it anyway, and the audit says it is unverified.
  EXPECT_THAT(audit, ElementsAre("received:peer-b", "unverified:installer", "activated:human"));
  audit.clear();
  v1::Cartridge pong = Get("pong");
  for (const auto& a : pong.audit()) audit.push_back(a.action() + ":" + a.actor());
  EXPECT_THAT(audit, ElementsAre("received:peer-b", "unverified:installer", "rejected:human"));
  ASSERT_TRUE(Drained());
  EXPECT_EQ(recorder_.Events("cartridge.installed").size(), 1u);
  EXPECT_EQ(recorder_.Resolutions().size(), 2u);
  // The outbox's reload and Activate's own (it learns whether egress loads it).
  EXPECT_EQ(recorder_.reloads(), 2);
  child_->Terminate();
  auto exit = child_->Wait(absl::Seconds(10));
  ASSERT_TRUE(exit.ok());
  EXPECT_TRUE(exit->exited());
  EXPECT_EQ(exit->exit_code, 0) << child_->ReadLog();
}

TEST_F(InstallerBinaryTest, L2ApprovesCleanAndDeniesOsExecute) {
  StartInstaller("L2");
  ASSERT_TRUE(Push(Batch({PublishedPush("p1", 7, SignedPayload("clean", kCleanLua)),
                          PublishedPush("p2", 8, SignedPayload("evil", kEvilLua))}))
                  .ok());
  EXPECT_EQ(Get("clean").status(), v1::CARTRIDGE_STATUS_ACTIVE);
  EXPECT_EQ(Get("evil").status(), v1::CARTRIDGE_STATUS_PENDING);
  ASSERT_TRUE(Drained());
  EXPECT_EQ(recorder_.Events("cartridge.installed").size(), 1u);
  EXPECT_EQ(recorder_.Events("cartridge.install_notified").size(), 1u);
  auto pending = recorder_.Events("cartridge.install_pending");
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_THAT(json::GetMemberString(pending[0].payload_json, "reason").value_or(""),
              HasSubstr("`os`"));
}

TEST_F(InstallerBinaryTest, L3ActivatesAtOnce) {
  StartInstaller("L3");
  ASSERT_TRUE(Push(Batch({PublishedPush("p1", 7, SignedPayload("ping", kCleanLua))})).ok());
  EXPECT_EQ(Get("ping").status(), v1::CARTRIDGE_STATUS_ACTIVE);
  EXPECT_THAT(FilesUnder(data() / "cartridges"), ElementsAre("ping.lua"));
  ASSERT_TRUE(Drained());
  EXPECT_EQ(recorder_.Events("cartridge.installed").size(), 1u);
  EXPECT_EQ(recorder_.reloads(), 1);
}

TEST_F(InstallerBinaryTest, PathTraversalAndOversizeWriteNothing) {
  StartInstaller("L3");
  ASSERT_TRUE(Push(Batch({PublishedPush("p1", 7, PublishedPayload("../../x", kCleanLua)),
                          PublishedPush("p2", 8, PublishedPayload("../escape", kCleanLua)),
                          PublishedPush("p3", 9, PublishedPayload("big", std::string(5000, 'a')))}))
                  .ok());
  EXPECT_THAT(FilesUnder(data() / "cartridges"), IsEmpty());
  // Only the database, the local RPC tokens (doc/security.md §11), the
  // identity key and the membership.db the test pinned alice in.
  EXPECT_THAT(FilesUnder(dir_.path()),
              ::testing::Each(::testing::AnyOf(::testing::StartsWith("data/installer.db"),
                                               "data/owner.token", "data/service.token",
                                               "data/identity.key", "data/membership.db")));
  grpc::ClientContext c;
  v1::ListCartridgesResponse list;
  ASSERT_TRUE(stub_->ListCartridges(&c, v1::ListCartridgesRequest(), &list).ok());
  EXPECT_EQ(list.cartridges_size(), 3);  // system cartridges only
  ASSERT_TRUE(Drained());
  auto failed = recorder_.Events("cartridge.install_failed");
  ASSERT_EQ(failed.size(), 3u);
  EXPECT_EQ(json::GetMemberString(failed[0].payload_json, "field"), "name");
  EXPECT_EQ(json::GetMemberString(failed[1].payload_json, "field"), "name");
  EXPECT_EQ(json::GetMemberString(failed[2].payload_json, "field"), "code");
  EXPECT_THAT(recorder_.Events("cartridge.installed"), IsEmpty());
}

TEST_F(InstallerBinaryTest, PromotionOnceAcrossBatchSizesAndRestarts) {
  StartInstaller("L1");
  for (int i = 0; i < 9; ++i) Record("one-" + std::to_string(i), "ping", 1, 1);
  Record("seven", "ping", 7, 1);  // 16: crosses
  Record("thousand", "ping", 1000, 1);
  ASSERT_TRUE(Drained());
  ASSERT_EQ(recorder_.Events("cartridge.promotion_suggested").size(), 1u);
  EXPECT_EQ(json::GetMember(recorder_.Events("cartridge.promotion_suggested")[0].payload_json,
                            "invocation_count"),
            "16");
  // SIGKILL: no clean shutdown at all.
  child_->Kill();
  ASSERT_TRUE(child_->Wait(absl::Seconds(5)).ok());
  StartInstaller("L1");
  EXPECT_TRUE(Record("thousand", "ping", 1000, 1).already_applied());
  Record("after-kill", "ping", 1, 5);
  // SIGTERM restart too.
  child_->Terminate();
  ASSERT_TRUE(child_->Wait(absl::Seconds(10)).ok());
  StartInstaller("L1");
  Record("after-term", "ping", 1, 5);
  ASSERT_TRUE(Drained());
  EXPECT_EQ(recorder_.Events("cartridge.promotion_suggested").size(), 1u);
  auto stats = Stats();
  ASSERT_EQ(stats.stats_size(), 1);
  EXPECT_EQ(stats.stats(0).invocation_count(), 1026);
  EXPECT_EQ(recorder_.duplicates(), 0);
}

// A push egress delivers again after the installer was SIGKILLed (egress
// re-sends what it has no answer for) has no second effect: the push id is
// in seen_ids, committed with the push's effects. An invalid payload is the
// telling case — its effect, a cartridge.install_failed event, has no other
// guard against a copy.
TEST_F(InstallerBinaryTest, ARedeliveredPushAfterASigkillHasNoSecondEffect) {
  StartInstaller("L3");
  const auto bad = PublishedPush("p-bad", 7, PublishedPayload("../x", kCleanLua));
  const auto good = PublishedPush("p-good", 8, SignedPayload("ping", kCleanLua));
  ASSERT_TRUE(Push(Batch({bad, good})).ok());
  ASSERT_TRUE(Drained());
  child_->Kill();
  ASSERT_TRUE(child_->Wait(absl::Seconds(5)).ok());
  StartInstaller("L3");
  ASSERT_TRUE(Push(Batch({bad, good})).ok());
  ASSERT_TRUE(Push(Batch({PublishedPush("p-bad-2", 9, PublishedPayload("../y", kCleanLua))})).ok());
  ASSERT_TRUE(Drained());
  EXPECT_EQ(recorder_.Events("cartridge.install_failed").size(), 2u);  // p-bad, p-bad-2
  EXPECT_EQ(recorder_.Events("cartridge.installed").size(), 1u);
  EXPECT_EQ(recorder_.reloads(), 1);
  EXPECT_EQ(recorder_.duplicates(), 0);
}

// Upgrading from installer.db version 3 (handled_pushes) keeps every push
// id already handled: the same push delivered again right after the upgrade
// has no effect, a new one has.
TEST_F(InstallerBinaryTest, APushHandledBeforeTheUpgradeIsStillRecognised) {
  {
    auto db = testing::InstallerDbAtVersion(data() / "installer.db", 3);
    ASSERT_TRUE(db.ok()) << db.status();
    const std::string now = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now() - absl::Minutes(1),
                                             absl::UTCTimeZone());
    absl::Status inserted = (*db)->Exec(
        "INSERT INTO handled_pushes (push_id, handled_at) VALUES "
        "('p-bad', '" +
        now + "')");
    ASSERT_TRUE(inserted.ok()) << inserted;
  }
  StartInstaller("L3");
  ASSERT_TRUE(Push(Batch({PublishedPush("p-bad", 7, PublishedPayload("../x", kCleanLua))})).ok());
  ASSERT_TRUE(Push(Batch({PublishedPush("p-bad-2", 9, PublishedPayload("../y", kCleanLua))})).ok());
  ASSERT_TRUE(Drained());
  auto failed = recorder_.Events("cartridge.install_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(json::GetMember(failed[0].payload_json, "published_notification_id"), "9");
  auto db = InstallerDb::Open(data() / "installer.db");
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->schema_version(), InstallerDbMigrations().back().version);
}

// SIGKILL while egress is taking a Submit (it has recorded the events, the
// installer has not yet deleted them from its outbox): after the restart the
// same events are sent again with the same message ids, egress drops the
// copies — every event processed once, none lost.
TEST_F(InstallerBinaryTest, SigkillDuringASendLosesNothingAndDoublesNothing) {
  recorder_.SetDelay(absl::Seconds(3));
  StartInstaller("L3");
  ASSERT_TRUE(Push(Batch({PublishedPush("p1", 7, PublishedPayload("../a", kCleanLua)),
                          PublishedPush("p2", 8, PublishedPayload("../b", kCleanLua)),
                          PublishedPush("p3", 9, PublishedPayload("../c", kCleanLua))}))
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return recorder_.Events("cartridge.install_failed").size() == 3; },
                      absl::Seconds(5)));
  child_->Kill();  // egress is still in the Submit call (its delay)
  ASSERT_TRUE(child_->Wait(absl::Seconds(5)).ok());
  recorder_.SetDelay(absl::ZeroDuration());
  StartInstaller("L3");
  ASSERT_TRUE(Drained());
  EXPECT_EQ(recorder_.Events("cartridge.install_failed").size(), 3u);
  EXPECT_EQ(recorder_.duplicates(), 3);  // the re-send, dropped by message id
  EXPECT_THAT(recorder_.invalid(), IsEmpty());
}

// Upgrading from installer.db version 4 (its own outbox table): the messages
// still waiting for egress are sent after the upgrade, in order, with the
// message ids they had; new ones get ids that never repeat an old one.
TEST_F(InstallerBinaryTest, MessagesWaitingBeforeTheUpgradeAreSentWithTheirIds) {
  {
    auto db = testing::InstallerDbAtVersion(data() / "installer.db", 4);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)->Exec("INSERT INTO meta (key, value) VALUES ('instance_id', 'abc123')").ok());
    InstallerEvents events("me");
    for (auto [id, name] : {std::pair{41, "ping"}, std::pair{42, "pong"}}) {
      auto st = (*db)->Prepare(
          "INSERT INTO outbox (id, kind, event_type, envelope_json, created_at) VALUES "
          "(?1, 'submit', 'cartridge.promotion_suggested', ?2, '2026-12-01T10:00:00Z')");
      ASSERT_TRUE(st.ok()) << st.status();
      absl::Status inserted =
          st->Bind(1, int64_t{id}).Bind(2, events.PromotionSuggested(name, 10, 10)).Run();
      ASSERT_TRUE(inserted.ok()) << inserted;
    }
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO outbox (id, kind, created_at) VALUES (43, 'reload', "
                           "'2026-12-01T10:00:00Z')")
                    .ok());
  }
  StartInstaller("L1");
  ASSERT_TRUE(Drained());
  EXPECT_EQ(recorder_.reloads(), 1);
  for (int i = 0; i < 10; ++i) Record("b" + std::to_string(i), "zap", 1, 1);
  ASSERT_TRUE(Drained());
  std::vector<std::string> ids;
  for (const auto& e : recorder_.Events("cartridge.promotion_suggested")) {
    ids.push_back(e.message_id + " " +
                  json::GetMemberString(e.payload_json, "cartridge_name").value_or("?"));
  }
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], "installer:abc123:41 ping");
  EXPECT_EQ(ids[1], "installer:abc123:42 pong");
  EXPECT_THAT(ids[2], ::testing::MatchesRegex("installer:abc123:o[0-9]+ zap"));
  EXPECT_EQ(recorder_.duplicates(), 0);
}

TEST_F(InstallerBinaryTest, BadConfigurationStopsWithOneLine) {
  auto result = testing::RunCommand(
      {TM_INSTALLER_BIN, "--cartridge_install=L9", "--data_dir=" + data().string()});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, 2);
  EXPECT_THAT(result->err, HasSubstr("cartridge_install"));
}

}  // namespace
}  // namespace teleclaude::mesh
