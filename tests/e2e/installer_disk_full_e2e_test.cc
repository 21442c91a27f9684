// Issue 18 "Disk full" for the installer's database (installer.db,
// doc/installer-db.md) against one real computer whose data_dir is a small
// tmpfs: cartridges are published while the installer does not answer, so
// egress holds their notification pushes; the disk fills; the installer
// comes back and every push fails on the full disk. Then: nothing of a push
// is applied (no registry row, no install_pending) before its transaction
// commits, `telec status` names installer.db's writes as failing for a full
// disk, and after a little space is freed every cartridge is registered
// exactly once, announced once, and the condition is cleared.
#include <signal.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/envelope/envelope.h"
#include "common/envelope/stream_codec.h"
#include "common/redis/redis_client.h"
#include "common/sqlite/database.h"
#include "common/sqlite/statement.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_computer.h"
#include "tests/support/redis_server.h"
#include "tests/support/tmpfs_mount.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh::e2e {
namespace {

using ::teleclaude::mesh::testing::RedisServer;
using ::teleclaude::mesh::testing::TmpfsMount;
using ::teleclaude::mesh::testing::WaitFor;

constexpr int kCartridges = 40;

class InstallerDiskFullE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    ComputerOptions o;
    o.name = "tiny";
    o.redis_url = redis_.url();
    o.extra_flags = {"--peer_refresh_ms=100"};
    computer_ = std::make_unique<Computer>(std::move(o));
    auto mounted = TmpfsMount::Mount(computer_->data_dir(), 32 << 20);
    if (!mounted.ok()) {
      // Loud, and not a pass: ctest reports it as skipped with this reason.
      GTEST_SKIP() << "NOT RUN: " << mounted.status().message();
    }
    tmpfs_ = *std::move(mounted);
    client_ = redis_.Client();
    ASSERT_TRUE(computer_->Launch().ok());
    absl::Status ready = computer_->AwaitReady(absl::Seconds(60));
    ASSERT_TRUE(ready.ok()) << ready;
  }

  void TearDown() override {
    if (computer_ != nullptr) {
      (void)computer_->Signal(Service::kInstaller, SIGCONT);
      computer_->Stop();
    }
    tmpfs_.reset();
  }

  // cartridge.published events for cartridges c0..c{n-1} on the local stream
  // (unsigned: pending at L1, a person decides), each ~2 KB of Lua.
  void Publish(int n) {
    std::vector<std::vector<std::string>> commands;
    for (int i = 0; i < n; ++i) {
      const std::string name = absl::StrCat("c", i);
      const std::string source =
          absl::StrCat("-- ", std::string(2000, 'x'), "\nfunction process(e) return e end\n");
      EventEnvelope e;
      e.event = "cartridge.published";
      e.source = "tiny";
      e.level = Level::kWorkflow;
      e.domain = "cartridge";
      e.visibility = Visibility::kLocal;
      e.payload_json =
          absl::StrCat(R"({"name":")", name, R"(","event_type":"demo.ping","version":"1.0.0",)",
                       R"("author":"tiny","code":")", absl::Base64Escape(source),
                       R"(","entry_point":"process","dependencies":[],)",
                       R"("description":"disk-full test","runtime":"lua"})");
      commands.push_back(
          RedisClient::XAddArgv("teleclaude:events:tiny", EncodeEnvelopeStream(e), 0));
    }
    auto done = client_->Pipeline(commands);
    ASSERT_TRUE(done.ok()) << done.status();
  }

  // {rows, distinct values} of `sql` ("SELECT COUNT(*), COUNT(DISTINCT x)
  // FROM ...") on a read-only connection to data_dir/`db`; {-1, -1} when it
  // cannot be read.
  std::pair<int64_t, int64_t> Count(const std::string& db, const std::string& sql) {
    auto opened = Database::Open(absl::StrCat(computer_->data_dir(), "/", db),
                                 DatabaseOptions{.read_only = true});
    if (!opened.ok()) return {-1, -1};
    auto s = (*opened)->Prepare(sql);
    if (!s.ok()) return {-1, -1};
    auto row = s->Step();
    if (!row.ok() || !*row) return {-1, -1};
    return {s->ColumnInt64(0), s->ColumnInt64(1)};
  }
  // Egress's cartridge notifications of `type`: {rows, distinct names}.
  std::pair<int64_t, int64_t> Notifications(const std::string& type) {
    return Count("events.db", absl::StrCat("SELECT COUNT(*), COUNT(DISTINCT json_extract(payload, "
                                           "'$.name')) FROM notifications WHERE event_type = '",
                                           type, "'"));
  }
  // The installer's registry rows: {rows, distinct names}.
  std::pair<int64_t, int64_t> Registered() {
    return Count("installer.db", "SELECT COUNT(*), COUNT(DISTINCT name) FROM cartridges");
  }
  // "received" audit entries: {rows, distinct names}.
  std::pair<int64_t, int64_t> Received() {
    return Count("installer.db",
                 "SELECT COUNT(*), COUNT(DISTINCT name) FROM cartridge_audit "
                 "WHERE action = 'received'");
  }

  std::string Status() {
    auto r = computer_->Telec({"status"});
    return r.ok() ? absl::StrCat(r->out, r->err) : std::string(r.status().message());
  }
  bool AllServing() {
    auto r = computer_->Telec({"status"});
    return r.ok() && r->exit_code == 0;
  }
  std::string Files() {
    std::string out;
    std::error_code ec;
    for (const auto& f : std::filesystem::directory_iterator(computer_->data_dir(), ec)) {
      if (absl::StartsWith(f.path().filename().string(), "fill-")) continue;
      absl::StrAppend(&out, f.path().filename().string(), " ",
                      f.is_regular_file(ec) ? static_cast<int64_t>(f.file_size(ec)) : -1, "\n");
    }
    absl::StrAppend(&out, tmpfs_->FreeBytes(), " bytes free\n");
    return out;
  }

  RedisServer redis_;
  std::unique_ptr<Computer> computer_;
  std::unique_ptr<TmpfsMount> tmpfs_;
  std::unique_ptr<RedisClient> client_;
};

TEST_F(InstallerDiskFullE2ETest, FullDiskIsReportedNothingIsAppliedEarlyAndFreeingSpaceRecovers) {
  // The installer stops answering: egress records the published cartridges
  // and keeps their pushes until the installer confirms them.
  ASSERT_TRUE(computer_->Signal(Service::kInstaller, SIGSTOP).ok());
  Publish(kCartridges);
  ASSERT_TRUE(WaitFor([&] { return Notifications("cartridge.published").first == kCartridges; },
                      absl::Seconds(20), absl::Milliseconds(100)))
      << Notifications("cartridge.published").first << "\n"
      << computer_->LogTails();
  ASSERT_EQ(Registered().first, 0);

  auto filled = tmpfs_->Fill();
  ASSERT_TRUE(filled.ok()) << filled.status();
  std::cerr << "filled " << *filled << " bytes; " << tmpfs_->FreeBytes() << " left\n";
  ASSERT_TRUE(computer_->Signal(Service::kInstaller, SIGCONT).ok());

  std::string status;
  ASSERT_TRUE(WaitFor(
      [&] {
        status = Status();
        return absl::StrContains(status, "installer.db writes") &&
               absl::StrContains(status, "installer.db: disk full");
      },
      absl::Seconds(30), absl::Milliseconds(300)))
      << status << "\n"
      << Files() << computer_->LogTails();
  std::cerr << "telec status while full:\n" << status << "\n";
  // Nothing of a push is applied before it commits: no row, no announcement.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Registered().first, 0);
    EXPECT_EQ(Notifications("cartridge.install_pending").first, 0);
    absl::SleepFor(absl::Milliseconds(250));
  }

  // A little space back: 8 MiB of 32.
  const int64_t freed = tmpfs_->Free(8 << 20);
  std::cerr << "freed " << freed << " bytes\n" << Files();
  ASSERT_TRUE(WaitFor(
      [&] {
        return Registered().first == kCartridges &&
               Notifications("cartridge.install_pending").first == kCartridges;
      },
      absl::Seconds(40), absl::Milliseconds(200)))
      << Registered().first << " registered, " << Notifications("cartridge.install_pending").first
      << " install_pending\n"
      << Files() << Status() << computer_->LogTails();
  // Each exactly once: registered, received, announced.
  const auto once = std::make_pair(int64_t{kCartridges}, int64_t{kCartridges});
  EXPECT_EQ(Registered(), once);
  EXPECT_EQ(Received(), once);
  EXPECT_EQ(Notifications("cartridge.install_pending"), once);
  std::error_code ec;
  int incoming = 0;
  for (const auto& f :
       std::filesystem::directory_iterator(computer_->data_dir() + "/cartridges/incoming", ec)) {
    if (f.path().extension() == ".lua") ++incoming;
  }
  EXPECT_EQ(incoming, kCartridges);
  ASSERT_TRUE(WaitFor([&] { return AllServing(); }, absl::Seconds(20), absl::Milliseconds(300)))
      << Status();
  // Later pushes (nothing new) change nothing: still once each.
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(Registered(), once);
  EXPECT_EQ(Notifications("cartridge.install_pending"), once);
  std::cerr << "recovered:\n" << Files();
}

}  // namespace
}  // namespace teleclaude::mesh::e2e
