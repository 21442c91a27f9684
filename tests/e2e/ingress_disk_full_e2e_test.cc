// Issue 18 "Disk full" for ingress's own database (ingress.db, doc/ingress.md)
// against one real computer whose data_dir is a small tmpfs: two peers keep
// sending while the disk fills — events the trust gate holds back
// (quarantined into ingress.db) and events it passes to egress — and then:
// nothing is acknowledged on the mesh stream before its effect is committed,
// `telec status` names ingress.db's writes — and membership.db's, where the
// peers' heartbeats are recorded — as failing for a full disk, and after a
// little space is freed every event is where it belongs exactly once and both
// conditions are cleared.
#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/identity/identity_key.h"
#include "common/mesh/heartbeat.h"
#include "common/mesh/mesh_message.h"
#include "common/redis/redis_client.h"
#include "common/sqlite/database.h"
#include "common/sqlite/statement.h"
#include "gtest/gtest.h"
#include "tests/e2e/disk_full_computer.h"
#include "tests/e2e/e2e_computer.h"
#include "tests/support/pair_keys.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tmpfs_mount.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh::e2e {
namespace {

using ::teleclaude::mesh::testing::RedisServer;
using ::teleclaude::mesh::testing::TempDir;
using ::teleclaude::mesh::testing::TmpfsMount;
using ::teleclaude::mesh::testing::WaitFor;

constexpr char kMe[] = "tiny";
constexpr char kCluster[] = "home";
// Quarantined under --trust_strictness=strict: a source no member is named.
constexpr char kHeld[] = "demo.held";
// Accepted (its source is the sending peer): a notification row per worker.
constexpr char kCrashed[] = "system.worker.crashed";

struct Peer {
  std::string name;
  std::string dir;
  std::unique_ptr<IdentityKey> key;
  std::optional<PairKeys> keys;  // keys->send authenticates what the peer sends to kMe
};

class IngressDiskFullE2ETest : public DiskFullComputerTest {
 protected:
  void SetUp() override {
    ComputerOptions o;
    o.name = kMe;
    o.cluster = kCluster;
    o.extra_flags = {"--peer_refresh_ms=100"};
    o.service_flags["ingress"] = {"--trust_strictness=strict"};
    LaunchOnTmpfs(std::move(o));
    if (IsSkipped() || HasFatalFailure()) return;

    // Two C++ peers of the cluster: signed heartbeats (kept fresh by a
    // thread) and messages authenticated with the pair key of each peer's
    // identity and tiny's (created by tiny's ingress in its data dir).
    for (const char* name : {"pa", "pb"}) {
      Peer p;
      p.name = name;
      p.dir = peers_dir_.File(name);
      ASSERT_TRUE(std::filesystem::create_directory(p.dir)) << p.dir;
      auto key = IdentityKey::LoadOrCreate(IdentityKey::PathIn(p.dir));
      ASSERT_TRUE(key.ok()) << key.status();
      p.key = *std::move(key);
      auto keys = testing::PairKeysBetween(p.dir, name, computer_->data_dir(), kMe);
      ASSERT_TRUE(keys.ok()) << keys.status();
      p.keys.emplace(*std::move(keys));
      peers_.push_back(std::move(p));
    }
    Beat();
    beating_ = std::thread([this] {
      while (!stop_beating_.load()) {
        absl::SleepFor(absl::Seconds(1));
        Beat();
      }
    });
  }

  void TearDown() override {
    stop_beating_.store(true);
    if (beating_.joinable()) beating_.join();
    DiskFullComputerTest::TearDown();
  }

  void Beat() {
    auto redis = redis_.Client();  // this thread's own connection
    const std::string now =
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
    for (const Peer& p : peers_) {
      (void)redis->SetEx(absl::StrCat("computer:", p.name, ":heartbeat"),
                         EncodeSignedHeartbeat({p.name, now, kCluster}, *p.key), absl::Seconds(30));
    }
  }

  // Message i of each peer, for i in [from, to): even i held back (padded
  // to ~0.5 KB: they fill a disk faster), odd i accepted. Tags and message
  // ids are distinct per (peer, prefix, i).
  void Send(int from, int to, const std::string& prefix = "") {
    const std::string pad(500, 'p');
    std::vector<std::vector<std::string>> commands;
    for (int i = from; i < to; ++i) {
      for (const Peer& p : peers_) {
        const std::string tag = absl::StrCat(prefix, p.name, "-", i);
        std::string envelope =
            i % 2 == 0
                ? absl::StrCat(R"({"event":")", kHeld,
                               R"(","source":"stranger","level":1,"domain":"demo",)",
                               R"("payload":{"tag":")", tag, R"(","pad":")", pad, R"("}})")
                : absl::StrCat(R"({"event":")", kCrashed, R"(","source":")", p.name,
                               R"(","level":1,"domain":"system",)", R"("payload":{"worker_name":")",
                               tag, R"(","timestamp":"m","exit_code":1}})");
        commands.push_back(RedisClient::XAddArgv(
            MeshStreamKey(kMe),
            EncodeAuthenticatedMeshMessage(p.keys->send, MeshStreamKey(kMe), envelope, p.name,
                                           absl::StrCat(p.name, "/", tag),
                                           absl::ToUnixMillis(absl::Now())),
            0));
      }
    }
    auto done = client_->Pipeline(commands);
    ASSERT_TRUE(done.ok()) << done.status();
  }

  // Held events in quarantined_events whose tag starts with `prefix` (""
  // = those of Send without one): {rows, distinct tags}.
  std::pair<int64_t, int64_t> Held(const std::string& prefix = "") {
    return Count(
        "ingress.db",
        absl::StrCat("SELECT COUNT(*), COUNT(DISTINCT tag) FROM (SELECT "
                     "json_extract(envelope_json, '$.payload.tag') AS tag FROM "
                     "quarantined_events WHERE event_type = '",
                     kHeld, "') WHERE ", prefix.empty() ? "tag NOT LIKE 'w%'" : "tag LIKE '",
                     prefix, prefix.empty() ? "" : "%'"));
  }
  // Accepted events' notifications in events.db: {rows, distinct tags}.
  std::pair<int64_t, int64_t> Accepted() {
    return Count("events.db",
                 absl::StrCat("SELECT COUNT(*), COUNT(DISTINCT json_extract(payload, "
                              "'$.worker_name')) FROM notifications WHERE event_type = '",
                              kCrashed, "'"));
  }

  // Entries of tiny's mesh stream ingress acknowledged, of `sent`.
  int64_t Acknowledged(int64_t sent) {
    auto info = client_->XInfoGroup(MeshStreamKey(kMe), "mesh-ingress");
    if (!info.ok()) return -1;
    return sent - info->pending - info->lag.value_or(0);
  }

  TempDir peers_dir_;
  std::vector<Peer> peers_;
  std::atomic<bool> stop_beating_{false};
  std::thread beating_;
};

TEST_F(IngressDiskFullE2ETest,
       FullDiskIsReportedNothingIsAckedEarlyAndFreeingSpaceRecoversExactly) {
  // Until tiny's membership knows both peers their messages are refused as
  // unauthenticated: a warm-up message of each is sent (a new one each
  // time) until both of the last are held.
  int64_t sent = 0;
  int round = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::string prefix = absl::StrCat("w", ++round, "-");
        Send(0, 1, prefix);
        sent += 2;
        return WaitFor([&] { return Held(prefix).second == 2; }, absl::Seconds(2),
                       absl::Milliseconds(100));
      },
      absl::Seconds(30)))
      << computer_->LogTails();
  Send(0, 200);
  sent += 400;
  ASSERT_TRUE(WaitFor(
      [&] { return Held().first == 200 && Accepted().first == 200 && Acknowledged(sent) == sent; },
      absl::Seconds(60), absl::Milliseconds(200)))
      << Held().first << " held, " << Accepted().first << " accepted, " << Acknowledged(sent)
      << " of " << sent << " acknowledged\n"
      << computer_->LogTails();
  const int64_t acked_before = sent;
  const int64_t rows_before = Held().first + Accepted().first;

  auto filled = tmpfs_->Fill();
  ASSERT_TRUE(filled.ok()) << filled.status();
  std::cerr << "filled " << *filled << " bytes; " << tmpfs_->FreeBytes() << " left\n";
  Send(200, 1200);  // 1,000 held, 1,000 accepted
  sent += 2000;
  std::string status;
  // membership.db (the peers' heartbeats, recorded every second) is on the
  // same disk: its writes fail too, and the peers stay recorded.
  ASSERT_TRUE(AwaitStatusWith({"ingress.db writes", "ingress.db: disk full", "membership.db writes",
                               "membership.db: disk full"},
                              absl::Seconds(60), &status))
      << status << "\n"
      << computer_->LogTails();
  std::cerr << "telec status while full:\n" << status << "\n";
  // Meanwhile the peers stay as recorded (live; egress reads membership.db).
  EXPECT_TRUE(absl::StrContains(status, "2 live, 0 away")) << status;
  // Nothing is acknowledged whose row is not committed: one row (held or
  // accepted) per entry acknowledged since the disk filled.
  for (int i = 0; i < 5; ++i) {
    const int64_t acked = Acknowledged(sent) - acked_before;
    const int64_t rows = Held().first + Accepted().first - rows_before;
    EXPECT_LE(acked, rows) << "acknowledged entries without their row";
    EXPECT_LT(rows, 2000);
    absl::SleepFor(absl::Milliseconds(200));
  }

  // A little space back: 8 MiB of 32.
  const int64_t freed = tmpfs_->Free(8 << 20);
  std::cerr << "freed " << freed << " bytes\n" << Files();
  ASSERT_TRUE(WaitFor(
      [&] {
        return Held().first == 1200 && Accepted().first == 1200 && Acknowledged(sent) == sent;
      },
      absl::Seconds(120), absl::Milliseconds(500)))
      << Held().first << " held, " << Accepted().first << " accepted, " << Acknowledged(sent)
      << " of " << sent << " acknowledged\n"
      << Files() << Status() << computer_->LogTails();
  EXPECT_EQ(Held(), std::make_pair(int64_t{1200}, int64_t{1200}));  // none lost, none doubled
  EXPECT_EQ(Accepted(), std::make_pair(int64_t{1200}, int64_t{1200}));
  ASSERT_TRUE(WaitFor([&] { return AllServing(); }, absl::Seconds(20), absl::Milliseconds(500)))
      << Status();
  std::cerr << "recovered:\n" << Files();

  // The space it got back is enough to go on: ingress.db's WAL does not grow
  // back over it.
  Send(1200, 2200);
  sent += 2000;
  ASSERT_TRUE(WaitFor(
      [&] {
        return Held().first == 2200 && Accepted().first == 2200 && Acknowledged(sent) == sent;
      },
      absl::Seconds(120), absl::Milliseconds(500)))
      << Held().first << " held, " << Accepted().first << " accepted\n"
      << Files() << Status() << computer_->LogTails();
  EXPECT_EQ(Held(), std::make_pair(int64_t{2200}, int64_t{2200}));
  EXPECT_EQ(Accepted(), std::make_pair(int64_t{2200}, int64_t{2200}));
  std::cerr << "after:\n" << Files();
  // ingress.db's writer checkpoints at 256 pages (1 MiB); a round adds at
  // most 256 records (~0.5 MiB here).
  std::error_code ec;
  const auto wal = std::filesystem::file_size(computer_->data_dir() + "/ingress.db-wal", ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_LT(wal, 2u << 20) << Files();
  EXPECT_TRUE(AllServing()) << Status();
}

}  // namespace
}  // namespace teleclaude::mesh::e2e
