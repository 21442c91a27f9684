// The head-of-line failure of issue 16, with the real binaries of three
// computers on one real redis-server: A forwards public events to B and C;
// B's egress stops answering (SIGSTOP) while its ingress keeps its heartbeat
// and stops acknowledging, so B's inbox fills to the flow-control limit
// (--stream_maxlen) and A holds back B's messages. Before the delivery core
// A's outbox was read in order, so C received nothing more once B was full;
// now each peer has its own cursor (common/delivery/outbox.h): C receives
// everything while B is stopped, and B receives everything, once, when it
// drains. Events are written to A's local stream as a producer does; what
// each computer received is counted in its events.db (a notification per
// event: system.worker.crashed with a distinct worker_name).
#include <signal.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/envelope/stream_codec.h"
#include "common/mesh/mesh_message.h"
#include "common/redis/redis_client.h"
#include "common/sqlite/database.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_computer.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh::e2e {
namespace {

using ::teleclaude::mesh::testing::RedisServer;
using ::teleclaude::mesh::testing::WaitFor;

constexpr int64_t kMaxlen = 100;  // --stream_maxlen: B is "full" at about this many
constexpr int kEvents = 2000;

// Notifications in `c`'s events.db whose worker_name starts with `prefix`
// (-1 when the database cannot be read yet).
int64_t Received(const Computer& c, const std::string& prefix) {
  auto db = Database::Open(absl::StrCat(c.data_dir(), "/events.db"));
  if (!db.ok()) return -1;
  auto s = (*db)->Prepare(
      "SELECT COUNT(*) FROM notifications WHERE event_type = 'system.worker.crashed' AND "
      "json_extract(payload, '$.worker_name') LIKE ?");
  if (!s.ok()) return -1;
  s->Bind(1, absl::StrCat(prefix, "%"));
  auto row = s->Step();
  if (!row.ok() || !*row) return -1;
  return s->ColumnInt64(0);
}

// Mesh input keys from A recorded by `c` (one per message id it acted on).
int64_t MeshInputsFromA(const Computer& c) {
  auto db = Database::Open(absl::StrCat(c.data_dir(), "/events.db"));
  if (!db.ok()) return -1;
  auto s = (*db)->Prepare("SELECT COUNT(*) FROM processed_inputs WHERE input_key LIKE 'mesh:A/%'");
  if (!s.ok()) return -1;
  auto row = s->Step();
  if (!row.ok() || !*row) return -1;
  return s->ColumnInt64(0);
}

// Writes `n` public system.worker.crashed events (worker_name prefix + i) to
// A's local stream, pipelined, as a producer does.
void Produce(RedisClient& redis, const std::string& prefix, int n) {
  std::vector<std::vector<std::string>> batch;
  for (int i = 0; i < n; ++i) {
    EventEnvelope e;
    e.event = "system.worker.crashed";
    e.source = "hol-producer";
    e.level = Level::kOperational;
    e.visibility = Visibility::kPublic;
    e.description = "head-of-line e2e";
    e.payload_json =
        absl::StrCat(R"({"worker_name":")", prefix, i, R"(","timestamp":"e2e","exit_code":3})");
    batch.push_back(RedisClient::XAddArgv("teleclaude:events:A", EncodeEnvelopeStream(e), 0));
    if (batch.size() == 256 || i + 1 == n) {
      auto replies = redis.Pipeline(batch);
      ASSERT_TRUE(replies.ok()) << replies.status();
      batch.clear();
    }
  }
}

// lag + pending of B's mesh-ingress group: what flow control measures.
int64_t BInboxUnfinished(RedisClient& redis) {
  auto reply = redis.Command({"XINFO", "GROUPS", MeshStreamKey("B")});
  if (!reply.ok()) return -1;
  auto group = RedisClient::FindGroupInfo(*reply, kMeshIngressGroup);
  if (!group.has_value()) return -1;
  return group->lag.value_or(0) + group->pending;
}

TEST(MeshFlowControlE2ETest, AFullPeerHoldsBackOnlyItselfAndReceivesEverythingOnceAfter) {
  RedisServer redis;
  std::unique_ptr<RedisClient> client = redis.Client();
  const std::vector<std::string> flags = {
      "--heartbeat_interval_s=1", "--heartbeat_ttl_s=5", "--peer_refresh_ms=100",
      "--trust_mode=mesh",        "--log_level=info",    absl::StrCat("--stream_maxlen=", kMaxlen),
  };
  std::vector<std::unique_ptr<Computer>> computers;
  for (const char* name : {"A", "B", "C"}) {
    ComputerOptions o;
    o.name = name;
    o.redis_url = redis.url();
    o.extra_flags = flags;
    computers.push_back(std::make_unique<Computer>(std::move(o)));
  }
  Computer& a = *computers[0];
  Computer& b = *computers[1];
  Computer& c = *computers[2];
  for (auto& computer : computers) ASSERT_TRUE(computer->Launch().ok());
  for (auto& computer : computers) {
    absl::Status ready = computer->AwaitReady(absl::Seconds(60));
    ASSERT_TRUE(ready.ok()) << ready;
  }

  // Both peers are destinations of A (their heartbeats were seen).
  ASSERT_TRUE(WaitFor(
      [&] {
        Produce(*client, absl::StrCat("probe-", absl::ToUnixMicros(absl::Now()), "-"), 1);
        return WaitFor([&] { return Received(b, "probe-") > 0 && Received(c, "probe-") > 0; },
                       absl::Seconds(2));
      },
      absl::Seconds(60)))
      << a.LogTails();

  // Baseline: both peers up.
  absl::Time start = absl::Now();
  Produce(*client, "base-", kEvents);
  ASSERT_TRUE(WaitFor([&] { return Received(c, "base-") == kEvents; }, absl::Seconds(120)))
      << "C has " << Received(c, "base-") << "\n"
      << a.LogTails();
  const absl::Duration base_c = absl::Now() - start;
  ASSERT_TRUE(WaitFor([&] { return Received(b, "base-") == kEvents; }, absl::Seconds(120)));

  const int64_t b_inputs_before = MeshInputsFromA(b);

  // B's egress stops answering; its ingress keeps the heartbeat and stops
  // acknowledging, so B's inbox fills up to the flow-control limit.
  ASSERT_TRUE(b.Signal(Service::kEgress, SIGSTOP).ok());
  start = absl::Now();
  Produce(*client, "hol-", kEvents);
  ASSERT_TRUE(WaitFor([&] { return Received(c, "hol-") == kEvents; }, absl::Seconds(120)))
      << "C has " << Received(c, "hol-") << " while B is stopped\n"
      << a.LogTails();
  const absl::Duration held_c = absl::Now() - start;
  // B was full and held back, not flooded (nothing trimmed unread).
  const int64_t unfinished = BInboxUnfinished(*client);
  EXPECT_GE(unfinished, kMaxlen / 2);
  EXPECT_LE(unfinished, kMaxlen + 1);
  EXPECT_EQ(Received(b, "hol-"), 0);
  absl::StatusOr<Json> status = a.TelecJson({"status"});
  ASSERT_TRUE(status.ok()) << status.status();
  const rapidjson::Value* pipeline = Member(**status, "pipeline");
  ASSERT_NE(pipeline, nullptr) << ToText(**status);
  // Per peer: A keeps B's messages (held by flow control), none for C,
  // nothing dropped.
  const rapidjson::Value* per_peer = Member(*pipeline, "outbox_per_peer");
  ASSERT_NE(per_peer, nullptr) << ToText(*pipeline);
  const rapidjson::Value* to_b = Member(*per_peer, "B");
  const rapidjson::Value* to_c = Member(*per_peer, "C");
  ASSERT_TRUE(to_b != nullptr && to_c != nullptr) << ToText(*per_peer);
  const int64_t waiting = Int(*to_b, "waiting");
  EXPECT_GE(waiting, kEvents - kMaxlen - 1) << ToText(*per_peer);
  EXPECT_EQ(Int(*to_c, "waiting"), 0) << ToText(*per_peer);
  EXPECT_EQ(Int(*to_b, "dropped"), 0);
  EXPECT_EQ(Int(*pipeline, "outbox_dropped"), 0);

  // B comes back: everything, once.
  ASSERT_TRUE(b.Signal(Service::kEgress, SIGCONT).ok());
  start = absl::Now();
  ASSERT_TRUE(WaitFor([&] { return Received(b, "hol-") == kEvents; }, absl::Seconds(180)))
      << "B has " << Received(b, "hol-") << "\n"
      << b.LogTails();
  const absl::Duration drain_b = absl::Now() - start;
  // Once: B acted on exactly one message id per event (a copy re-sent
  // after a retry has the same id and no second effect).
  EXPECT_EQ(MeshInputsFromA(b) - b_inputs_before, kEvents);
  EXPECT_EQ(Received(b, "hol-"), kEvents);

  auto rate = [](absl::Duration d) {
    return static_cast<int64_t>(kEvents / std::max(absl::ToDoubleSeconds(d), 1e-3));
  };
  std::cout << "head-of-line figures (" << kEvents << " public events A -> B, C; stream_maxlen "
            << kMaxlen << "):\n"
            << "  C, B up:        " << absl::FormatDuration(base_c) << " (" << rate(base_c)
            << " events/s)\n"
            << "  C, B stopped:   " << absl::FormatDuration(held_c) << " (" << rate(held_c)
            << " events/s); A kept " << waiting << " for B, B's inbox lag+pending " << unfinished
            << "\n"
            << "  B after SIGCONT: all " << kEvents << " in " << absl::FormatDuration(drain_b)
            << "\n";
  ::testing::Test::RecordProperty("c_events_per_s_b_up", std::to_string(rate(base_c)));
  ::testing::Test::RecordProperty("c_events_per_s_b_stopped", std::to_string(rate(held_c)));
  for (auto& computer : computers) computer->Stop();
}

}  // namespace
}  // namespace teleclaude::mesh::e2e
