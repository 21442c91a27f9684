// NotificationAggregator through the notification projector, on a real
// events.db file: one row per sender and reason, exact counts, a rate limit
// on new rows, nothing counted by a rolled-back transaction.
#include "services/egress/cartridges/notification_aggregator.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/base/strings.h"
#include "common/catalog/event_catalog.h"
#include "common/json/json_text.h"
#include "common/sqlite/transaction.h"
#include "gtest/gtest.h"
#include "services/egress/cartridges/notification_projector.h"
#include "tests/support/manual_clock.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh {
namespace {

EventEnvelope Rejected(const std::string& sender, const std::string& reason, int n) {
  EventEnvelope e;
  e.event = "mesh.event.rejected";
  e.source = "me";
  e.level = Level::kOperational;
  e.domain = "mesh";
  e.entity = Cat("mesh/", sender);
  e.description = Cat("Event x from ", sender, " rejected: ", reason);
  e.payload_json = Cat(R"({"source_computer":")", sender, R"(","reason":")", reason,
                       R"(","detail":"example )", n, R"(","stream_entry_id":")", n, "-0\"}");
  return e;
}

class NotificationAggregatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = EventsDb::Open(dir_.File("events.db"));
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    NotificationAggregator::Options options;
    options.max_new_rows = 3;
    options.window = absl::Minutes(1);
    aggregator_ = std::make_unique<NotificationAggregator>(options, db_.get(), &clock_);
    projector_ = std::make_unique<NotificationProjector>(
        &catalog_, db_.get(), std::vector<NotificationPushFn>{}, aggregator_.get());
  }

  // Projects `events` in one transaction; commits unless `rollback`.
  void Project(const std::vector<EventEnvelope>& events, bool rollback = false) {
    auto txn = Transaction::Begin(db_->database());
    ASSERT_TRUE(txn.ok()) << txn.status();
    for (EventEnvelope e : events) {
      CartridgeContext context;
      ASSERT_TRUE(projector_->Process(e, context).ok());
      EXPECT_GT(context.notification_id, 0);
    }
    if (!rollback) {
      ASSERT_TRUE(txn->Commit().ok());
    }
  }

  // "sender/reason" -> count, over every mesh.event.rejected row.
  std::map<std::string, int64_t> Counts() {
    NotificationFilter filter;
    filter.event_type_prefix = "mesh.event.rejected";
    filter.limit = 1000;
    auto rows = db_->ListNotifications(filter);
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::map<std::string, int64_t> out;
    for (const NotificationRow& row : *rows) {
      std::string key =
          Cat(json::GetMemberString(row.payload_json, "source_computer").value_or("?"), "/",
              json::GetMemberString(row.payload_json, "reason").value_or("?"));
      std::optional<std::string> aggregate = json::GetMember(row.payload_json, "aggregate_key");
      if (aggregate.has_value() &&
          json::GetMemberString(*aggregate, "source_computer") == "(others)") {
        key = "(others)";
      }
      out[key] += std::stoll(json::GetMember(row.payload_json, "count").value_or("-1"));
    }
    return out;
  }

  testing::TempDir dir_;
  testing::ManualClock clock_;
  EventCatalog catalog_ = BuildDefaultCatalog();
  std::unique_ptr<EventsDb> db_;
  std::unique_ptr<NotificationAggregator> aggregator_;
  std::unique_ptr<NotificationProjector> projector_;
};

TEST_F(NotificationAggregatorTest, CountsOneRowPerSenderAndReasonWithTheLastExample) {
  std::vector<EventEnvelope> events;
  for (int i = 0; i < 500; ++i) events.push_back(Rejected("zulu", "untrusted", i));
  for (int i = 0; i < 7; ++i) events.push_back(Rejected("zulu", "malformed", i));
  Project(events);
  Project({Rejected("zulu", "untrusted", 500)});
  EXPECT_EQ(Counts(),
            (std::map<std::string, int64_t>{{"zulu/malformed", 7}, {"zulu/untrusted", 501}}));
  auto count = db_->CountNotifications();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2);
  NotificationFilter filter;
  filter.event_type_prefix = "mesh.event.rejected";
  auto rows = db_->ListNotifications(filter);
  ASSERT_TRUE(rows.ok());
  for (const NotificationRow& row : *rows) {
    if (json::GetMemberString(row.payload_json, "reason") != "untrusted") continue;
    EXPECT_EQ(json::GetMemberString(row.payload_json, "detail"), "example 500");  // the last one
    EXPECT_EQ(row.description, "Event x from zulu rejected: untrusted (501 in all)");
    EXPECT_EQ(row.human_status, "unseen");
  }
}

TEST_F(NotificationAggregatorTest, RolledBackTransactionCountsNothing) {
  Project({Rejected("zulu", "untrusted", 1)});
  std::vector<EventEnvelope> events;
  for (int i = 0; i < 50; ++i) events.push_back(Rejected("zulu", "untrusted", i));
  events.push_back(Rejected("yankee", "untrusted", 0));
  Project(events, /*rollback=*/true);
  EXPECT_EQ(Counts(), (std::map<std::string, int64_t>{{"zulu/untrusted", 1}}));
}

TEST_F(NotificationAggregatorTest, NewRowsBeyondTheRateGoToOneOverflowRowUntilTheWindowPasses) {
  std::vector<EventEnvelope> events;
  for (int i = 0; i < 100; ++i) events.push_back(Rejected(Cat("s", i), "malformed", i));
  Project(events);
  // Three rows of their own (the limit), the other 97 senders in one row.
  EXPECT_EQ(Counts(),
            (std::map<std::string, int64_t>{
                {"s0/malformed", 1}, {"s1/malformed", 1}, {"s2/malformed", 1}, {"(others)", 97}}));
  Project({Rejected("s1", "malformed", 1)});  // an existing row still counts
  clock_.Advance(absl::Minutes(1));
  Project({Rejected("s200", "malformed", 1)});
  EXPECT_EQ(Counts(), (std::map<std::string, int64_t>{{"s0/malformed", 1},
                                                      {"s1/malformed", 2},
                                                      {"s2/malformed", 1},
                                                      {"s200/malformed", 1},
                                                      {"(others)", 97}}));
}

TEST_F(NotificationAggregatorTest, LongAndOddSenderNamesAreCutAtACharacterBoundary) {
  const std::string long_name = std::string(127, 'a') + "\xC3\xA9" + std::string(50, 'b');
  Project({Rejected(long_name, "malformed", 1), Rejected(long_name, "malformed", 2)});
  std::map<std::string, int64_t> counts = Counts();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts.begin()->second, 2);
}

}  // namespace
}  // namespace teleclaude::mesh
