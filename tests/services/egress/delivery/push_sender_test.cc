// PushSender on a real events.db: pushes are offered in order, a send that
// attempts only a prefix reports how far it got and the rest is offered
// again from there; refused
// deliveries count as done; a failed send is retried and counted. The send
// function is the test's own (it is the sender's injected dependency).
#include "services/egress/delivery/push_sender.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/base/strings.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using testing::TempDir;
using testing::WaitFor;

class PushSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = EventsDb::Open(dir_.File("events.db"));
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
  }

  // Starts a push sender whose send function answers with `answer` (called
  // with the deliveries offered, "message id" each).
  void Start(
      std::function<absl::StatusOr<std::vector<absl::Status>>(std::vector<std::string>)> answer,
      int delivery_limit = 0) {
    PushSender::Options options;
    options.name = "push";
    options.db_path = dir_.File("events.db");
    options.delivery_limit = delivery_limit;
    options.backoff_min = absl::Milliseconds(1);
    options.hold_max = absl::Milliseconds(5);
    options.poll = absl::Milliseconds(20);
    sender_ = std::make_unique<PushSender>(
        options,
        [this, answer](const std::vector<OutboxRow>& rows) {
          std::vector<std::string> offered;
          for (const OutboxRow& r : rows) offered.push_back(r.message_id);
          {
            absl::MutexLock lock(&mu_);
            calls_.push_back(offered);
          }
          return answer(offered);
        },
        [this](OutboxKind kind, OutboxProgress p) {
          EXPECT_EQ(kind, OutboxKind::kPush);
          absl::MutexLock lock(&mu_);
          progress_.push_back(Cat(p.through_id, "+", p.partial_id, ":", p.partial_done));
        },
        [this](OutboxKind, std::vector<int64_t> ids) {
          absl::MutexLock lock(&mu_);
          failed_ids_.insert(failed_ids_.end(), ids.begin(), ids.end());
        },
        [this] { stopped_draining_.fetch_add(1); });
    ASSERT_TRUE(sender_->Start().ok());
  }

  std::vector<std::vector<std::string>> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  std::vector<std::string> progress() {
    absl::MutexLock lock(&mu_);
    return progress_;
  }

  TempDir dir_;
  std::unique_ptr<EventsDb> db_;
  std::unique_ptr<PushSender> sender_;
  absl::Mutex mu_;
  std::vector<std::vector<std::string>> calls_;
  std::vector<std::string> progress_;
  std::vector<int64_t> failed_ids_;
  std::atomic<int> stopped_draining_{0};
};

// Push rows k{first}.. k{first + n - 1} to the installer.
void AddPushes(EventsDb* db, int first, int n) {
  for (int i = first; i < first + n; ++i) {
    ASSERT_TRUE(db->AddPushOutbox("installer", Cat("k", i), "{}").ok());
  }
}

TEST_F(PushSenderTest, AHeldBackPrefixIsReportedAndTheRestOfferedFromThere) {
  AddPushes(db_.get(), 1, 4);
  int round = 0;
  std::vector<bool> draining;  // while sending
  Start([&](std::vector<std::string> offered) -> absl::StatusOr<std::vector<absl::Status>> {
    draining.push_back(sender_->draining());
    // First round: room for 2 only.
    size_t n = round++ == 0 ? 2 : offered.size();
    return std::vector<absl::Status>(n);
  });
  ASSERT_TRUE(WaitFor([&] { return sender_->delivered() == 4; }, absl::Seconds(5)));
  EXPECT_EQ(calls(),
            (std::vector<std::vector<std::string>>{{"k1", "k2", "k3", "k4"}, {"k3", "k4"}}));
  EXPECT_EQ(progress(), (std::vector<std::string>{"2+0:0", "4+0:0"}));
  EXPECT_EQ(sender_->held(), 1);
  // Busy at first; not after a batch was held back (until one goes whole).
  EXPECT_EQ(draining, (std::vector<bool>{true, false}));
  EXPECT_TRUE(WaitFor([&] { return !sender_->draining(); }, absl::Seconds(5)));  // idle
  sender_->Stop();
  // Told twice that it stopped draining: when held back, and when idle.
  EXPECT_EQ(stopped_draining_.load(), 2);
}

TEST_F(PushSenderTest, BatchesAreCutAtTheDeliveryLimit) {
  AddPushes(db_.get(), 0, 9);
  Start(
      [](std::vector<std::string> offered) -> absl::StatusOr<std::vector<absl::Status>> {
        return std::vector<absl::Status>(offered.size());
      },
      /*delivery_limit=*/7);
  ASSERT_TRUE(WaitFor([&] { return sender_->delivered() == 9; }, absl::Seconds(5)));
  std::vector<size_t> sizes;
  for (const auto& c : calls()) sizes.push_back(c.size());
  EXPECT_EQ(sizes, (std::vector<size_t>{7, 2}));
  sender_->Stop();
}

TEST_F(PushSenderTest, RefusedCountsAsDoneAndAFailedSendIsRetried) {
  auto first = db_->AddPushOutbox("installer", "k1", "{}");
  auto second = db_->AddPushOutbox("installer", "k2", "{}");
  ASSERT_TRUE(first.ok() && second.ok());
  int round = 0;
  Start([&round](std::vector<std::string>) -> absl::StatusOr<std::vector<absl::Status>> {
    if (round++ == 0) return absl::UnavailableError("installer down");
    return std::vector<absl::Status>{absl::OkStatus(), absl::FailedPreconditionError("refused")};
  });
  ASSERT_TRUE(
      WaitFor([&] { return sender_->delivered() + sender_->refused() == 2; }, absl::Seconds(5)));
  EXPECT_EQ(sender_->failed_attempts(), 1);
  EXPECT_TRUE(WaitFor([&] { return !sender_->draining(); }, absl::Seconds(5)));  // idle
  EXPECT_EQ(sender_->delivered(), 1);
  EXPECT_EQ(sender_->refused(), 1);
  EXPECT_EQ(calls().size(), 2u);
  EXPECT_EQ(progress(), (std::vector<std::string>{Cat(*second, "+0:0")}));
  {
    absl::MutexLock lock(&mu_);
    EXPECT_EQ(failed_ids_, (std::vector<int64_t>{*first, *second}));
  }
  sender_->Stop();
}

}  // namespace
}  // namespace teleclaude::mesh
