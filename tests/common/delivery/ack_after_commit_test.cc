// Acknowledgement after commit, with a real process killed: delivery_probe
// (a ConsumerGroupReader feeding a SingleWriter that records each entry's
// effect and its id in SeenIds in one transaction) is SIGKILLed while
// batches sit committed but not yet acknowledged; restarted, it hands those
// entries over again and SeenIds makes them duplicates: every entry has
// exactly one effect and nothing stays pending.
#include <memory>
#include <string>
#include <vector>

#include "common/base/strings.h"
#include "common/sqlite/database.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using testing::ChildProcess;
using testing::RedisServer;
using testing::TempDir;
using testing::WaitFor;

class AckAfterCommitTest : public ::testing::Test {
 protected:
  std::unique_ptr<ChildProcess> StartProbe(int settle_delay_ms) {
    testing::ChildOptions options;
    options.args = {TM_DELIVERY_PROBE, redis_.url(), dir_.File("probe.db"),
                    std::to_string(settle_delay_ms)};
    options.separate_stdout = true;
    auto child = ChildProcess::Start(options);
    EXPECT_TRUE(child.ok()) << child.status();
    if (!child.ok()) return nullptr;
    auto line = (*child)->ReadStdoutLine(absl::Seconds(10));
    EXPECT_TRUE(line.ok() && *line == "ready") << (*child)->ReadLog();
    return std::move(*child);
  }

  // effects rows, distinct entries.
  std::pair<int64_t, int64_t> Effects() {
    auto db = Database::Open(dir_.File("probe.db"));
    if (!db.ok()) return {-1, -1};
    auto s = (*db)->Prepare("SELECT COUNT(*), COUNT(DISTINCT entry_id) FROM effects");
    if (!s.ok() || !s->Step().value_or(false)) return {-1, -1};
    return {s->ColumnInt64(0), s->ColumnInt64(1)};
  }

  RedisServer redis_;
  TempDir dir_;
};

TEST_F(AckAfterCommitTest, SigkillBetweenCommitAndAckThenRestartHasOneEffectPerEntry) {
  constexpr int kEntries = 3000;
  auto client = redis_.Client();
  for (int start = 0; start < kEntries; start += 500) {
    std::vector<std::vector<std::string>> commands;
    for (int i = start; i < start + 500; ++i) {
      commands.push_back(RedisClient::XAddArgv("probe:stream", {{"v", Cat("e", i)}}, 0));
    }
    ASSERT_TRUE(client->Pipeline(commands).ok());
  }
  // Acknowledgements lag 300 ms behind the commits.
  std::unique_ptr<ChildProcess> probe = StartProbe(300);
  ASSERT_NE(probe, nullptr);
  ASSERT_TRUE(WaitFor([&] { return Effects().first >= 500; }, absl::Seconds(20)));
  probe->Kill();
  ASSERT_TRUE(probe->Wait(absl::Seconds(5)).ok());
  auto [effects_at_kill, distinct_at_kill] = Effects();
  auto info = client->XInfoGroup("probe:stream", "probe");
  ASSERT_TRUE(info.ok());
  const int64_t acked = kEntries - info->pending - info->lag.value_or(0);
  std::cerr << "at the kill: " << effects_at_kill << " effects committed, " << acked
            << " entries acknowledged, " << info->pending << " pending\n";
  // The kill came between commit and acknowledgement for some entries.
  ASSERT_GT(effects_at_kill, acked);
  EXPECT_LT(effects_at_kill, kEntries) << "the kill came after everything";

  probe = StartProbe(0);
  ASSERT_NE(probe, nullptr);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto i = client->XInfoGroup("probe:stream", "probe");
        return i.ok() && i->pending == 0 && i->lag.value_or(1) == 0;
      },
      absl::Seconds(30)))
      << probe->ReadLog();
  EXPECT_EQ(Effects(), std::make_pair(int64_t{kEntries}, int64_t{kEntries}));
}

}  // namespace
}  // namespace teleclaude::mesh
