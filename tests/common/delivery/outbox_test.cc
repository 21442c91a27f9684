// Outbox + OutboxSender on a real SQLite file, driven by a real SingleWriter:
// a message for several destinations is stored once and reaches each; a
// destination whose transport has no room holds back only itself; the bound
// drops the oldest messages of that destination only, counted, with one
// episode reported; forgetting a destination drops its backlog; progress
// survives a restart; a failed send is retried with the same ids. The
// transport is the test's own (OutboxTransport is the sender's seam): it
// records what it is given and answers with the room the test sets.
#include "common/delivery/outbox.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/base/strings.h"
#include "common/delivery/outbox_sender.h"
#include "common/delivery/single_writer.h"
#include "gtest/gtest.h"
#include "tests/support/manual_clock.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using testing::ManualClock;
using testing::TempDir;
using testing::WaitFor;

class RecordingTransport : public OutboxTransport {
 public:
  // Room for `dest` from now on; -1 = unlimited.
  void SetRoom(const std::string& dest, int64_t room) {
    absl::MutexLock lock(&mu_);
    room_[dest] = room;
  }
  void FailNext(int sends) {
    absl::MutexLock lock(&mu_);
    fail_ = sends;
  }

  absl::StatusOr<std::vector<int64_t>> Room(const std::vector<std::string_view>& dests) override {
    absl::MutexLock lock(&mu_);
    std::vector<int64_t> out;
    for (std::string_view d : dests) {
      auto it = room_.find(std::string(d));
      out.push_back(it == room_.end() || it->second < 0 ? INT64_MAX : it->second);
    }
    return out;
  }
  OutboxSendResult Send(const std::vector<OutboxDelivery>& deliveries) override {
    absl::MutexLock lock(&mu_);
    ++sends_;
    if (fail_ > 0) {
      --fail_;
      return {{}, absl::UnavailableError("down")};
    }
    OutboxSendResult result;
    for (const OutboxDelivery& d : deliveries) {
      got_[std::string(d.destination)].push_back(
          Cat(d.message_id, d.message_id_suffix, "=", d.body));
      result.statuses.push_back(absl::OkStatus());
    }
    return result;
  }
  std::vector<std::string> Got(const std::string& dest) {
    absl::MutexLock lock(&mu_);
    return got_[dest];
  }
  int sends() {
    absl::MutexLock lock(&mu_);
    return sends_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, int64_t> room_;
  std::map<std::string, std::vector<std::string>> got_;
  int fail_ = 0;
  int sends_ = 0;
};

class RecordingObserver : public OutboxObserver {
 public:
  void OnDropEpisode(const DropEpisode& e) override {
    absl::MutexLock lock(&mu_);
    episodes.push_back(Cat(e.destination, " dropped ", e.dropped, " bound ", e.bound));
  }
  std::vector<std::string> Episodes() {
    absl::MutexLock lock(&mu_);
    return episodes;
  }
  absl::Mutex mu_;
  std::vector<std::string> episodes;
};

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DatabaseOptions db_options;
    db_options.auto_checkpoint = false;
    auto db = Database::Open(dir_.File("o.db"), db_options);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Migrate({{1, Outbox::Schema("x")}}).ok());
  }
  void TearDown() override { StopAll(); }

  void StartAll(int64_t bound = 0) {
    writer_ = std::make_unique<SingleWriter>(SingleWriter::Options{"o.db"}, db_.get());
    Outbox::Options options;
    options.name = "x";
    options.max_per_destination = bound;
    options.id_per_destination = true;
    options.clock = &clock_;
    auto outbox = Outbox::Open(db_.get(), options, writer_.get(), &observer_);
    ASSERT_TRUE(outbox.ok()) << outbox.status();
    outbox_ = std::move(*outbox);
    writer_->AddParticipant(outbox_.get());
    writer_->Start();
    OutboxSender::Options sender_options;
    sender_options.db_path = dir_.File("o.db");
    sender_options.backoff_min = absl::Milliseconds(1);
    sender_options.backoff_max = absl::Milliseconds(10);
    sender_options.hold_min = absl::Milliseconds(1);
    sender_options.hold_max = absl::Milliseconds(10);
    sender_ = std::make_unique<OutboxSender>(sender_options, outbox_.get(), &transport_);
    ASSERT_TRUE(sender_->Start().ok());
  }
  void StopAll() {
    if (sender_) sender_->Stop();
    if (writer_) writer_->Stop();
    sender_.reset();
    writer_.reset();
    outbox_.reset();
  }

  // One transaction appending `body` for `dests` with id "m{n}/".
  void Append(const std::vector<std::string_view>& dests, int n) {
    absl::Status s = writer_->Run([&] {
      return writer_->Transact(
          [&] { return outbox_->Append(dests, Cat("m", n, "/"), Cat("body", n)).status(); });
    });
    ASSERT_TRUE(s.ok()) << s;
  }
  int64_t Rows() {
    return *writer_->Run([&]() -> absl::StatusOr<int64_t> {
      auto s = db_->Prepare("SELECT COUNT(*) FROM outbox_x");
      if (!s.ok()) return s.status();
      (void)s->Step();
      return s->ColumnInt64(0);
    });
  }
  DestinationStats StatsOf(const std::string& dest) {
    for (const DestinationStats& s : outbox_->Stats()) {
      if (s.destination == dest) return s;
    }
    return DestinationStats{};
  }
  static std::vector<std::string> Expected(const std::string& dest, int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i <= to; ++i) out.push_back(Cat("m", i, "/", dest, "=body", i));
    return out;
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Database> db_;
  RecordingTransport transport_;
  RecordingObserver observer_;
  std::unique_ptr<SingleWriter> writer_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<OutboxSender> sender_;
};

TEST_F(OutboxTest, AMessageForManyDestinationsIsStoredOnceAndReachesEach) {
  transport_.SetRoom("b", 0);
  transport_.SetRoom("c", 0);
  StartAll();
  for (int i = 1; i <= 3; ++i) Append({"b", "c"}, i);
  EXPECT_EQ(Rows(), 3);  // not one per destination
  transport_.SetRoom("b", -1);
  transport_.SetRoom("c", -1);
  ASSERT_TRUE(WaitFor([&] { return transport_.Got("c").size() == 3; }, absl::Seconds(5)));
  ASSERT_TRUE(WaitFor([&] { return transport_.Got("b").size() == 3; }, absl::Seconds(5)));
  EXPECT_EQ(transport_.Got("b"), Expected("b", 1, 3));
  EXPECT_EQ(transport_.Got("c"), Expected("c", 1, 3));
  // Delivered everywhere: the rows leave, the depth is 0.
  ASSERT_TRUE(
      WaitFor([&] { return Rows() == 0 && outbox_->Totals().depth == 0; }, absl::Seconds(5)));
  EXPECT_EQ(StatsOf("b").sent, 3);
  EXPECT_EQ(outbox_->Totals().sent, 6);
}

TEST_F(OutboxTest, AFullDestinationHoldsBackOnlyItself) {
  transport_.SetRoom("b", 0);  // b's inbox is full
  StartAll();
  for (int i = 1; i <= 50; ++i) Append({"b", "c"}, i);
  ASSERT_TRUE(WaitFor([&] { return transport_.Got("c").size() == 50; }, absl::Seconds(5)));
  EXPECT_EQ(transport_.Got("c"), Expected("c", 1, 50));
  EXPECT_TRUE(transport_.Got("b").empty());
  ASSERT_TRUE(WaitFor([&] { return StatsOf("b").held; }, absl::Seconds(5)));
  EXPECT_EQ(StatsOf("b").depth, 50);
  ASSERT_TRUE(WaitFor([&] { return StatsOf("c").depth == 0; }, absl::Seconds(5)));
  EXPECT_EQ(Rows(), 50);  // kept for b
  // b makes room, a little at a time: everything arrives, once, in order.
  transport_.SetRoom("b", 7);
  ASSERT_TRUE(WaitFor([&] { return transport_.Got("b").size() >= 7; }, absl::Seconds(5)));
  transport_.SetRoom("b", -1);
  ASSERT_TRUE(WaitFor([&] { return transport_.Got("b").size() == 50; }, absl::Seconds(5)));
  EXPECT_EQ(transport_.Got("b"), Expected("b", 1, 50));
  ASSERT_TRUE(WaitFor([&] { return Rows() == 0; }, absl::Seconds(5)));
  EXPECT_GT(StatsOf("b").held_rounds, 0);
  EXPECT_FALSE(StatsOf("b").held);
}

TEST_F(OutboxTest, TheBoundDropsTheOldestOfThatDestinationOnlyWithOneEpisode) {
  transport_.SetRoom("b", 0);
  StartAll(/*bound=*/10);
  for (int i = 1; i <= 25; ++i) {
    Append({"b", "c"}, i);
    // c keeps up (its backlog never reaches the bound).
    ASSERT_TRUE(WaitFor([&] { return transport_.Got("c").size() == static_cast<size_t>(i); },
                        absl::Seconds(5)));
  }
  EXPECT_EQ(transport_.Got("c"), Expected("c", 1, 25));  // c lost nothing
  DestinationStats b = StatsOf("b");
  EXPECT_EQ(b.depth, 10);
  EXPECT_EQ(b.dropped, 15);
  EXPECT_TRUE(b.dropping);
  EXPECT_EQ(StatsOf("c").dropped, 0);
  EXPECT_EQ(outbox_->Totals().dropped, 15);
  // One episode, reported when the first message was dropped.
  EXPECT_EQ(observer_.Episodes(), (std::vector<std::string>{"b dropped 1 bound 10"}));
  EXPECT_EQ(Rows(), 10);
  // b comes back: the newest ten arrive.
  transport_.SetRoom("b", -1);
  ASSERT_TRUE(WaitFor([&] { return transport_.Got("b").size() == 10; }, absl::Seconds(5)));
  EXPECT_EQ(transport_.Got("b"), Expected("b", 16, 25));
  ASSERT_TRUE(WaitFor([&] { return !StatsOf("b").dropping; }, absl::Seconds(5)));
  // A new episode after it recovered is reported again.
  transport_.SetRoom("b", 0);
  for (int i = 26; i <= 37; ++i) Append({"b"}, i);
  EXPECT_EQ(observer_.Episodes().size(), 2u);
}

TEST_F(OutboxTest, ForgettingADestinationDropsItsBacklog) {
  transport_.SetRoom("b", 0);
  StartAll(/*bound=*/100);
  for (int i = 1; i <= 5; ++i) Append({"b", "c"}, i);
  ASSERT_TRUE(WaitFor([&] { return transport_.Got("c").size() == 5; }, absl::Seconds(5)));
  outbox_->Forget("b");
  ASSERT_TRUE(WaitFor([&] { return outbox_->Totals().forgotten == 5; }, absl::Seconds(5)));
  EXPECT_EQ(StatsOf("b").destination, "");  // no longer a destination
  EXPECT_EQ(outbox_->Totals().dropped, 0);  // not the bound's doing
  ASSERT_TRUE(WaitFor([&] { return Rows() == 0; }, absl::Seconds(5)));
  // Named again later, it gets what is new only.
  transport_.SetRoom("b", -1);
  Append({"b"}, 6);
  ASSERT_TRUE(WaitFor([&] { return transport_.Got("b").size() == 1; }, absl::Seconds(5)));
  EXPECT_EQ(transport_.Got("b"), Expected("b", 6, 6));
}

TEST_F(OutboxTest, ProgressIsKeptAcrossARestart) {
  transport_.SetRoom("c", 0);
  StartAll();
  for (int i = 1; i <= 4; ++i) Append({"b", "c"}, i);
  ASSERT_TRUE(WaitFor([&] { return transport_.Got("b").size() == 4; }, absl::Seconds(5)));
  ASSERT_TRUE(WaitFor([&] { return StatsOf("b").depth == 0; }, absl::Seconds(5)));
  StopAll();
  // The next run sends c's four, and nothing again to b.
  transport_.SetRoom("c", -1);
  StartAll();
  ASSERT_TRUE(WaitFor([&] { return transport_.Got("c").size() == 4; }, absl::Seconds(5)));
  Append({"b"}, 5);
  ASSERT_TRUE(WaitFor([&] { return transport_.Got("b").size() == 5; }, absl::Seconds(5)));
  EXPECT_EQ(transport_.Got("b"), Expected("b", 1, 5));
  EXPECT_EQ(transport_.Got("c"), Expected("c", 1, 4));
  ASSERT_TRUE(WaitFor([&] { return Rows() == 0; }, absl::Seconds(5)));
}

TEST_F(OutboxTest, AFailedSendIsRetriedAndDeliversEachMessageOnce) {
  transport_.FailNext(3);
  StartAll();
  for (int i = 1; i <= 3; ++i) Append({"b"}, i);
  ASSERT_TRUE(WaitFor([&] { return transport_.Got("b").size() == 3; }, absl::Seconds(5)));
  EXPECT_EQ(transport_.Got("b"), Expected("b", 1, 3));
  EXPECT_GE(transport_.sends(), 4);
  EXPECT_FALSE(StatsOf("b").failing);
  EXPECT_EQ(StatsOf("b").last_error, "down");
}

TEST_F(OutboxTest, BackPressureHoldsInputsOnlyForADrainingDestinationHalfFull) {
  transport_.SetRoom("b", 0);
  StartAll(/*bound=*/10);
  for (int i = 1; i <= 6; ++i) Append({"b"}, i);
  ASSERT_TRUE(WaitFor([&] { return StatsOf("b").held; }, absl::Seconds(5)));
  EXPECT_FALSE(outbox_->ShouldHoldInputs(0));  // held back by flow control: not draining
  EXPECT_EQ(outbox_->Stats().size(), 1u);
}

TEST_F(OutboxTest, RefusesDestinationNamesItCannotStore) {
  StartAll();
  for (std::vector<std::string_view> bad :
       {std::vector<std::string_view>{}, std::vector<std::string_view>{"line\nbreak"},
        std::vector<std::string_view>{"tab\t"}, std::vector<std::string_view>{"b", "b"}}) {
    absl::Status s = writer_->Run(
        [&] { return writer_->Transact([&] { return outbox_->Append(bad, "x", "y").status(); }); });
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  }
  EXPECT_EQ(Rows(), 0);
}

// A Python computer's name may hold spaces (issue 15): it is one destination,
// with its own cursor, next to others in one audience.
TEST_F(OutboxTest, ANameWithSpacesIsOneDestination) {
  StartAll();
  Append({"py C", "b"}, 1);
  ASSERT_TRUE(WaitFor([&] { return transport_.Got("py C").size() == 1; }, absl::Seconds(5)));
  ASSERT_TRUE(WaitFor([&] { return transport_.Got("b").size() == 1; }, absl::Seconds(5)));
  EXPECT_EQ(transport_.Got("py C"), Expected("py C", 1, 1));
  EXPECT_EQ(StatsOf("py C").sent, 1);
}

}  // namespace
}  // namespace teleclaude::mesh
