// Issue 18 "Disk full" for the installer's database (installer.db,
// doc/installer-db.md) against one real computer whose data_dir is a small
// tmpfs: cartridges are published while the installer does not answer, so
// egress holds their notification pushes; the disk fills; the installer
// comes back and every push fails on the full disk. Then: nothing of a push
// is applied (no registry row, no install_pending) before its transaction
// commits, `telec status` names installer.db's writes as failing for a full
// disk, and after a little space is freed every cartridge is registered
// exactly once, announced once, and the condition is cleared. Before that, a
// person's decision on a full disk (installer.db's own SQLITE_FULL) fails
// with the reason and changes nothing until space is back.
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
#include "tests/e2e/disk_full_computer.h"
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

class InstallerDiskFullE2ETest : public DiskFullComputerTest {
 protected:
  void SetUp() override {
    ComputerOptions o;
    o.name = "tiny";
    o.extra_flags = {"--peer_refresh_ms=100"};
    LaunchOnTmpfs(std::move(o));
  }

  void TearDown() override {
    if (computer_ != nullptr) (void)computer_->Signal(Service::kInstaller, SIGCONT);
    DiskFullComputerTest::TearDown();
  }

  // cartridge.published events for cartridges c0..c{n-1} (or `name` alone)
  // on the local stream (unsigned: pending at L1, a person decides), each
  // ~2 KB of Lua.
  void Publish(int n, const std::string& only = "") {
    std::vector<std::vector<std::string>> commands;
    for (int i = 0; i < n; ++i) {
      const std::string name = only.empty() ? absl::StrCat("c", i) : only;
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

  // The registry status of cartridge `name` ("" when it has no row).
  std::string StatusOf(const std::string& name) {
    auto opened = Database::Open(absl::StrCat(computer_->data_dir(), "/installer.db"),
                                 DatabaseOptions{.read_only = true});
    if (!opened.ok()) return "?";
    auto s =
        (*opened)->Prepare(absl::StrCat("SELECT status FROM cartridges WHERE name = '", name, "'"));
    if (!s.ok()) return "?";
    auto row = s->Step();
    if (!row.ok()) return "?";
    return *row ? s->ColumnText(0) : "";
  }
};

TEST_F(InstallerDiskFullE2ETest, FullDiskIsReportedNothingIsAppliedEarlyAndFreeingSpaceRecovers) {
  // A. A person's decision on a full disk: installer.db's own commit fails
  // (SQLITE_FULL), the command says why, nothing changes — not even the
  // pending cartridge's file — and once space is back the installer's own
  // test write clears the condition though nothing else writes.
  Publish(1, "pre");
  ASSERT_TRUE(WaitFor([&] { return StatusOf("pre") == "pending"; }, absl::Seconds(20),
                      absl::Milliseconds(100)))
      << computer_->LogTails();
  const std::string pre_file = computer_->data_dir() + "/cartridges/incoming/pre.lua";
  ASSERT_TRUE(std::filesystem::exists(pre_file));
  auto filled = tmpfs_->Fill();
  ASSERT_TRUE(filled.ok()) << filled.status();
  auto rejected = computer_->Telec({"cartridges", "reject", "pre"});
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_NE(rejected->exit_code, 0) << rejected->out << rejected->err;
  EXPECT_TRUE(absl::StrContains(rejected->err, "disk is full")) << rejected->out << rejected->err;
  std::cerr << "telec cartridges reject pre while full: " << rejected->err;
  EXPECT_EQ(StatusOf("pre"), "pending");
  EXPECT_TRUE(std::filesystem::exists(pre_file));
  std::string status;
  ASSERT_TRUE(
      AwaitStatusWith({"installer.db writes: installer.db: disk full"}, absl::Seconds(20), &status))
      << status << "\n"
      << computer_->LogTails();
  tmpfs_->Free(64 << 20);
  ASSERT_TRUE(WaitFor([&] { return AllServing(); }, absl::Seconds(20), absl::Milliseconds(300)))
      << Status() << computer_->LogTails();

  // B. Pushes reach the installer on a full disk. The installer stops answering: egress records the
  // published cartridges and keeps their pushes until the installer confirms them.
  ASSERT_TRUE(computer_->Signal(Service::kInstaller, SIGSTOP).ok());
  Publish(kCartridges);
  ASSERT_TRUE(WaitFor([&] { return Notifications("cartridge.published").first == kCartridges + 1; },
                      absl::Seconds(20), absl::Milliseconds(100)))
      << Notifications("cartridge.published").first << "\n"
      << computer_->LogTails();
  ASSERT_EQ(Registered().first, 1);

  filled = tmpfs_->Fill();
  ASSERT_TRUE(filled.ok()) << filled.status();
  std::cerr << "filled " << *filled << " bytes; " << tmpfs_->FreeBytes() << " left\n";
  ASSERT_TRUE(computer_->Signal(Service::kInstaller, SIGCONT).ok());

  ASSERT_TRUE(AwaitStatusWith({"installer.db writes", "installer.db: disk full"}, absl::Seconds(30),
                              &status))
      << status << "\n"
      << Files() << computer_->LogTails();
  std::cerr << "telec status while full:\n" << status << "\n";
  // Nothing of a push is applied before it commits: no row, no announcement.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Registered().first, 1);
    EXPECT_EQ(Notifications("cartridge.install_pending").first, 1);
    absl::SleepFor(absl::Milliseconds(250));
  }

  // A little space back: 8 MiB of 32.
  const int64_t freed = tmpfs_->Free(8 << 20);
  std::cerr << "freed " << freed << " bytes\n" << Files();
  ASSERT_TRUE(WaitFor(
      [&] {
        return Registered().first == kCartridges + 1 &&
               Notifications("cartridge.install_pending").first == kCartridges + 1;
      },
      absl::Seconds(40), absl::Milliseconds(200)))
      << Registered().first << " registered, " << Notifications("cartridge.install_pending").first
      << " install_pending\n"
      << Files() << Status() << computer_->LogTails();
  // Each exactly once: registered, received, announced.
  const auto once = std::make_pair(int64_t{kCartridges + 1}, int64_t{kCartridges + 1});
  EXPECT_EQ(Registered(), once);
  EXPECT_EQ(Received(), once);
  EXPECT_EQ(Notifications("cartridge.install_pending"), once);
  std::error_code ec;
  int incoming = 0;
  for (const auto& f :
       std::filesystem::directory_iterator(computer_->data_dir() + "/cartridges/incoming", ec)) {
    if (f.path().extension() == ".lua") ++incoming;
  }
  EXPECT_EQ(incoming, kCartridges + 1);
  ASSERT_TRUE(WaitFor([&] { return AllServing(); }, absl::Seconds(20), absl::Milliseconds(300)))
      << Status();
  // The decision goes through now, once.
  rejected = computer_->Telec({"cartridges", "reject", "pre"});
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_EQ(rejected->exit_code, 0) << rejected->out << rejected->err;
  EXPECT_EQ(StatusOf("pre"), "rejected");
  EXPECT_FALSE(std::filesystem::exists(pre_file));  // gone once the rejection committed
  EXPECT_EQ(Count("installer.db",
                  "SELECT COUNT(*), COUNT(DISTINCT name) FROM cartridge_audit "
                  "WHERE action = 'rejected'"),
            std::make_pair(int64_t{1}, int64_t{1}));
  // Later pushes (nothing new) change nothing: still once each.
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(Registered(), once);
  EXPECT_EQ(Notifications("cartridge.install_pending"), once);
  std::cerr << "recovered:\n" << Files();
}

}  // namespace
}  // namespace teleclaude::mesh::e2e
