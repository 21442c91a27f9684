// Issue 18 "Disk full" against one real computer whose data_dir is a small
// tmpfs: fill it while events arrive on the local stream, see the condition
// in `telec status`, free a little space, and see everything processed once
// — nothing acknowledged before it was committed, nothing lost, nothing
// doubled — and the computer staying within the space it got back.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/envelope/envelope.h"
#include "common/envelope/stream_codec.h"
#include "common/redis/redis_client.h"
#include "common/sqlite/database.h"
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

constexpr char kType[] = "system.sandbox-container.unhealthy";  // creates a row, no dedup key

class DiskFullE2ETest : public DiskFullComputerTest {
 protected:
  void SetUp() override {
    ComputerOptions o;
    o.name = "tiny";
    o.extra_flags = {"--peer_refresh_ms=100"};
    LaunchOnTmpfs(std::move(o));
  }

  // Events [from, to) on the local stream, each with a distinct payload
  // padded to ~0.5 KB (they fill a disk faster).
  void Produce(int from, int to) {
    const std::string pad(500, 'p');
    std::vector<std::vector<std::string>> commands;
    for (int i = from; i < to; ++i) {
      EventEnvelope e;
      e.event = kType;
      e.source = "tiny";
      e.level = Level::kOperational;
      e.domain = "system";
      e.visibility = Visibility::kLocal;
      e.payload_json = absl::StrCat(R"({"n":)", i, R"(,"pad":")", pad, R"("})");
      commands.push_back(
          RedisClient::XAddArgv("teleclaude:events:tiny", EncodeEnvelopeStream(e), 0));
    }
    auto done = client_->Pipeline(commands);
    ASSERT_TRUE(done.ok()) << done.status();
  }

  // {rows, distinct payloads} of kType in events.db (a read-only connection).
  std::pair<int64_t, int64_t> Rows() {
    auto db = Database::Open(absl::StrCat(computer_->data_dir(), "/events.db"),
                             DatabaseOptions{.read_only = true});
    if (!db.ok()) return {-1, -1};
    auto s = (*db)->Prepare(absl::StrCat(
        "SELECT COUNT(*), COUNT(DISTINCT json_extract(payload, '$.n')) FROM notifications "
        "WHERE event_type = '",
        kType, "'"));
    if (!s.ok()) return {-1, -1};
    auto row = s->Step();
    if (!row.ok() || !*row) return {-1, -1};
    return {s->ColumnInt64(0), s->ColumnInt64(1)};
  }

  // Entries of the local stream egress acknowledged.
  int64_t Acknowledged(int64_t produced) {
    auto info = client_->XInfoGroup("teleclaude:events:tiny", "egress");
    if (!info.ok()) return -1;
    return produced - info->pending - info->lag.value_or(0);
  }
};

TEST_F(DiskFullE2ETest, FullDiskIsReportedNothingIsAckedEarlyAndFreeingSpaceRecoversExactly) {
  Produce(0, 300);
  ASSERT_TRUE(WaitFor([&] { return Rows().first == 300; }, absl::Seconds(30)))
      << Rows().first << "\n"
      << computer_->LogTails();

  auto filled = tmpfs_->Fill();
  ASSERT_TRUE(filled.ok()) << filled.status();
  std::cerr << "filled " << *filled << " bytes; " << tmpfs_->FreeBytes() << " left\n";
  Produce(300, 3300);
  std::string status;
  ASSERT_TRUE(AwaitStatusWith({"events.db writes", "disk full"}, absl::Seconds(60), &status))
      << status << "\n"
      << computer_->LogTails();
  std::cerr << "telec status while full:\n" << status << "\n";
  // Nothing is acknowledged that is not committed (a row per entry acked).
  for (int i = 0; i < 5; ++i) {
    const int64_t acked = Acknowledged(3300);
    const int64_t rows = Rows().first;
    EXPECT_LE(acked, rows) << "acknowledged entries without their row";
    EXPECT_LT(rows, 3300);
    absl::SleepFor(absl::Milliseconds(200));
  }

  // A little space back: 8 MiB of 32 (the 3,000 waiting events need ~3).
  const int64_t freed = tmpfs_->Free(8 << 20);
  std::cerr << "freed " << freed << " bytes\n";
  ASSERT_TRUE(WaitFor([&] { return Rows().first == 3300 && Acknowledged(3300) == 3300; },
                      absl::Seconds(90), absl::Milliseconds(200)))
      << Rows().first << " rows, " << Acknowledged(3300) << " acknowledged\n"
      << Status() << computer_->LogTails();
  ASSERT_TRUE(WaitFor([&] { return !absl::StrContains(Status(), "disk full"); }, absl::Seconds(20),
                      absl::Milliseconds(500)))
      << Status();

  // The space it got back is enough to go on: checkpoints keep the WAL
  // small instead of growing back over it.
  Produce(3300, 4300);
  ASSERT_TRUE(WaitFor([&] { return Rows().first == 4300 && Acknowledged(4300) == 4300; },
                      absl::Seconds(90), absl::Milliseconds(200)))
      << Rows().first << " rows\n"
      << Status() << computer_->LogTails();
  EXPECT_EQ(Rows(), std::make_pair(int64_t{4300}, int64_t{4300}));  // none lost, none doubled
  std::error_code ec;
  const auto wal = std::filesystem::file_size(computer_->data_dir() + "/events.db-wal", ec);
  std::cerr << "events.db-wal: " << (ec ? -1 : static_cast<int64_t>(wal)) << " bytes, "
            << tmpfs_->FreeBytes() << " bytes free\n";
  EXPECT_FALSE(absl::StrContains(Status(), "disk full"));
}

}  // namespace
}  // namespace teleclaude::mesh::e2e
