// ConsumerGroupReader against a real redis-server: group creation at the
// stated start id, this consumer's pending entries first, idle entries of a
// dead consumer claimed, entries trimmed while pending acknowledged without
// being handed over, the group re-created after Redis restarted empty, and
// acknowledgement only of what the owner settled as committed. The handler
// is the test's own (BatchHandler is the reader's owner interface).
#include "common/delivery/consumer_group_reader.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/base/strings.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using testing::RedisServer;
using testing::WaitFor;

constexpr char kStream[] = "test:stream";
constexpr char kGroup[] = "g";

// Records every batch; settles each as committed unless told to keep some
// back. Thread-safe.
class RecordingHandler : public BatchHandler {
 public:
  void set_reader(ConsumerGroupReader* reader) { reader_ = reader; }
  // Entries whose value is in `refuse` are not committed the first `times`
  // times they are handed over.
  void Refuse(std::string value, int times) {
    absl::MutexLock lock(&mu_);
    refuse_[value] = times;
  }

  // While set, nothing is committed (the owner's database is full).
  void RefuseAll(bool refuse) {
    absl::MutexLock lock(&mu_);
    refuse_all_ = refuse;
  }

  void HandleBatch(StreamBatch batch) override {
    std::vector<std::string> committed;
    {
      absl::MutexLock lock(&mu_);
      for (const StreamEntry& e : batch.entries) {
        const std::string value = e.fields.at(0).second;
        handed_.push_back(value);
        origins_[value].insert(batch.origin);
        if (refuse_all_) continue;
        auto r = refuse_.find(value);
        if (r != refuse_.end() && r->second > 0) {
          --r->second;
          continue;
        }
        committed.push_back(e.id);
        committed_.insert(value);
      }
    }
    reader_->Settle(batch.id, std::move(committed));
  }

  std::vector<std::string> handed() {
    absl::MutexLock lock(&mu_);
    return handed_;
  }
  std::set<std::string> committed() {
    absl::MutexLock lock(&mu_);
    return committed_;
  }
  std::set<StreamBatch::Origin> origins(const std::string& value) {
    absl::MutexLock lock(&mu_);
    return origins_[value];
  }

 private:
  ConsumerGroupReader* reader_ = nullptr;
  absl::Mutex mu_;
  std::vector<std::string> handed_;
  std::set<std::string> committed_;
  std::map<std::string, std::set<StreamBatch::Origin>> origins_;
  std::map<std::string, int> refuse_;
  bool refuse_all_ = false;
};

class ConsumerGroupReaderTest : public ::testing::Test {
 protected:
  ConsumerGroupReaderTest() : client_(redis_.Client()) {}
  void TearDown() override {
    if (reader_) reader_->Stop();
  }

  std::string Add(const std::string& value) {
    auto id = client_->XAdd(kStream, {{"v", value}}, 0);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : "";
  }

  ConsumerGroupReader::Options Options(const std::string& consumer = "me") {
    ConsumerGroupReader::Options o;
    o.redis = redis_.ClientOptions();
    o.stream = kStream;
    o.group = kGroup;
    o.consumer = consumer;
    o.count = 4;
    o.block = absl::Milliseconds(50);
    o.backoff_min = absl::Milliseconds(5);
    o.backoff_max = absl::Milliseconds(50);
    return o;
  }

  void Start(ConsumerGroupReader::Options options) {
    reader_ = std::make_unique<ConsumerGroupReader>(options, &handler_);
    handler_.set_reader(reader_.get());
    reader_->Start();
  }

  int64_t Pending() {
    auto info = client_->XInfoGroup(kStream, kGroup);
    return info.ok() ? info->pending : -1;
  }

  RedisServer redis_;
  std::unique_ptr<RedisClient> client_;
  RecordingHandler handler_;
  std::unique_ptr<ConsumerGroupReader> reader_;
};

TEST_F(ConsumerGroupReaderTest, CreatesTheGroupAtTheStatedStartId) {
  Add("before-1");
  Add("before-2");
  // "$": what was there stays unread.
  {
    ConsumerGroupReader::Options o = Options();
    o.group = "from-end";
    o.start_id = "$";
    RecordingHandler handler;
    ConsumerGroupReader reader(o, &handler);
    handler.set_reader(&reader);
    reader.Start();
    ASSERT_TRUE(WaitFor([&] { return reader.ready(); }, absl::Seconds(5)));
    Add("after");
    ASSERT_TRUE(WaitFor([&] { return handler.committed().size() == 1; }, absl::Seconds(5)));
    EXPECT_EQ(handler.handed(), (std::vector<std::string>{"after"}));
  }
  // "0": everything already in the stream too, in order.
  ConsumerGroupReader::Options o = Options();
  o.start_id = "0";
  Start(o);
  ASSERT_TRUE(WaitFor([&] { return handler_.committed().size() == 3; }, absl::Seconds(5)));
  EXPECT_EQ(handler_.handed(), (std::vector<std::string>{"before-1", "before-2", "after"}));
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
}

TEST_F(ConsumerGroupReaderTest, HandsOverItsOwnPendingEntriesFirst) {
  ASSERT_TRUE(client_->XGroupCreate(kStream, kGroup, "0", true).ok());
  for (int i = 0; i < 6; ++i) Add(Cat("p", i));
  // A previous run of consumer "me" read them and died before acknowledging.
  ASSERT_TRUE(client_->XReadGroup(kGroup, "me", kStream, ">", 100, std::nullopt).ok());
  Add("new");
  Start(Options("me"));
  ASSERT_TRUE(WaitFor([&] { return handler_.committed().size() == 7; }, absl::Seconds(5)));
  EXPECT_EQ(handler_.handed(),
            (std::vector<std::string>{"p0", "p1", "p2", "p3", "p4", "p5", "new"}));
  EXPECT_EQ(handler_.origins("p5"), std::set<StreamBatch::Origin>{StreamBatch::Origin::kPending});
  EXPECT_EQ(handler_.origins("new"), std::set<StreamBatch::Origin>{StreamBatch::Origin::kNew});
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
}

TEST_F(ConsumerGroupReaderTest, ClaimsTheIdleEntriesOfADeadConsumerPeriodically) {
  ASSERT_TRUE(client_->XGroupCreate(kStream, kGroup, "0", true).ok());
  // Another consumer takes two entries and dies; when the live reader
  // starts they are not idle long enough yet, so a later, periodic claim
  // must find them.
  Add("d1");
  Add("d2");
  ASSERT_TRUE(client_->XReadGroup(kGroup, "dead", kStream, ">", 2, std::nullopt).ok());
  ConsumerGroupReader::Options o = Options("live");
  o.claim_min_idle = absl::Milliseconds(300);
  o.claim_every = absl::Milliseconds(100);
  Start(o);
  ASSERT_TRUE(WaitFor([&] { return handler_.committed().size() == 2; }, absl::Seconds(10)));
  EXPECT_EQ(handler_.origins("d1"), std::set<StreamBatch::Origin>{StreamBatch::Origin::kClaimed});
  EXPECT_EQ(reader_->counters().claimed, 2);
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
}

TEST_F(ConsumerGroupReaderTest, AcknowledgesPendingEntriesTrimmedFromTheStreamWithoutHandingThem) {
  ASSERT_TRUE(client_->XGroupCreate(kStream, kGroup, "0", true).ok());
  std::string gone = Add("gone");
  Add("kept");
  std::string claimed_gone = Add("claimed-gone");
  ASSERT_TRUE(client_->XReadGroup(kGroup, "me", kStream, ">", 2, std::nullopt).ok());
  ASSERT_TRUE(client_->XReadGroup(kGroup, "dead", kStream, ">", 1, std::nullopt).ok());
  ASSERT_TRUE(client_->Command({"XDEL", kStream, gone, claimed_gone}).ok());
  ConsumerGroupReader::Options o = Options("me");
  o.claim_min_idle = absl::Milliseconds(1);
  o.claim_every = absl::Milliseconds(50);
  Start(o);
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
  EXPECT_EQ(handler_.handed(), (std::vector<std::string>{"kept"}));
  EXPECT_EQ(reader_->counters().vanished, 2);
}

TEST_F(ConsumerGroupReaderTest, CreatesTheGroupAgainAfterRedisRestartedEmpty) {
  Start(Options());
  ASSERT_TRUE(WaitFor([&] { return reader_->ready(); }, absl::Seconds(5)));
  Add("before");
  ASSERT_TRUE(WaitFor([&] { return handler_.committed().size() == 1; }, absl::Seconds(5)));
  redis_.Restart();  // no persistence: the stream and the group are gone
  // A producer writes again before the reader has noticed: NOGROUP, then the
  // group is created at 0, so this entry is read too.
  ASSERT_TRUE(WaitFor(
      [&] {
        return client_->XAdd(kStream, {{"v", "after"}}, 0).ok();
      },
      absl::Seconds(5)));
  ASSERT_TRUE(WaitFor([&] { return handler_.committed().count("after") == 1; }, absl::Seconds(10)));
  EXPECT_GE(reader_->counters().nogroup_recoveries, 1);
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
}

TEST_F(ConsumerGroupReaderTest, AcknowledgesOnlyWhatTheOwnerCommittedAndHandsTheRestAgain) {
  handler_.Refuse("b", 2);
  Start(Options());
  ASSERT_TRUE(WaitFor([&] { return reader_->ready(); }, absl::Seconds(5)));
  Add("a");
  Add("b");
  Add("c");
  ASSERT_TRUE(WaitFor([&] { return handler_.committed().size() == 3; }, absl::Seconds(10)));
  // b was handed three times: twice refused, then from the pending list.
  std::vector<std::string> handed = handler_.handed();
  EXPECT_EQ(std::count(handed.begin(), handed.end(), "b"), 3);
  EXPECT_EQ(std::count(handed.begin(), handed.end(), "a"), 1);
  EXPECT_TRUE(handler_.origins("b").count(StreamBatch::Origin::kPending) > 0);
  EXPECT_GE(reader_->counters().pending_rereads, 2);
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
}

// An entry whose effect never commits is retried by passes over the pending
// entries (at most every backoff_max once they keep failing) while the
// entries behind it are read and committed.
TEST_F(ConsumerGroupReaderTest, AnEntryThatNeverCommitsDoesNotHoldBackTheStream) {
  handler_.Refuse("poison", 1000000);
  Start(Options());
  ASSERT_TRUE(WaitFor([&] { return reader_->ready(); }, absl::Seconds(5)));
  Add("poison");
  ASSERT_TRUE(WaitFor([&] { return reader_->counters().pending_rereads >= 3; }, absl::Seconds(5)));
  for (int i = 0; i < 20; ++i) Add(Cat("after", i));
  ASSERT_TRUE(WaitFor([&] { return handler_.committed().size() == 20; }, absl::Seconds(5)))
      << handler_.committed().size();
  EXPECT_EQ(handler_.committed().count("poison"), 0u);
  EXPECT_TRUE(WaitFor([&] { return Pending() == 1; }, absl::Seconds(5))) << Pending();
}

// While every commit fails, the reader does not feed the stream to the
// owner: one batch of new entries per pass, the rest stays in the stream;
// once commits work again everything is committed, each entry once.
TEST_F(ConsumerGroupReaderTest, WhileCommitsFailNewEntriesWaitInTheStream) {
  handler_.RefuseAll(true);
  Start(Options());
  ASSERT_TRUE(WaitFor([&] { return reader_->ready(); }, absl::Seconds(5)));
  for (int i = 0; i < 40; ++i) Add(Cat("e", i));
  ASSERT_TRUE(WaitFor([&] { return reader_->counters().pending_rereads >= 4; }, absl::Seconds(5)));
  // count = 4: a pass per failed batch, one new batch after each pass.
  const int64_t delivered = Pending();
  EXPECT_LT(delivered, 40) << "the whole stream was handed to a failing owner";
  handler_.RefuseAll(false);
  ASSERT_TRUE(WaitFor([&] { return handler_.committed().size() == 40; }, absl::Seconds(10)))
      << handler_.committed().size();
  EXPECT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
}

// Stop waits for the batches handed over, then acknowledges them.
TEST_F(ConsumerGroupReaderTest, StopAcknowledgesWhatWasSettledWhileStopping) {
  class SlowHandler : public BatchHandler {
   public:
    ConsumerGroupReader* reader = nullptr;
    std::vector<std::thread> threads;
    void HandleBatch(StreamBatch batch) override {
      threads.emplace_back([this, batch = std::move(batch)] {
        absl::SleepFor(absl::Milliseconds(200));  // a commit that takes a while
        std::vector<std::string> ids;
        for (const StreamEntry& e : batch.entries) ids.push_back(e.id);
        reader->Settle(batch.id, ids);
      });
    }
  };
  SlowHandler handler;
  ConsumerGroupReader reader(Options(), &handler);
  handler.reader = &reader;
  reader.Start();
  ASSERT_TRUE(WaitFor([&] { return reader.ready(); }, absl::Seconds(5)));
  Add("x");
  ASSERT_TRUE(WaitFor([&] { return reader.counters().entries_read == 1; }, absl::Seconds(5)));
  reader.Stop();
  for (std::thread& t : handler.threads) t.join();
  EXPECT_EQ(reader.counters().entries_acked, 1);
  EXPECT_EQ(Pending(), 0);
}

}  // namespace
}  // namespace teleclaude::mesh
