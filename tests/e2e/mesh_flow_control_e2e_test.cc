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

// Notifications in `c`'s events.db that match `where` (SQL, with one `?`
// bound to `arg`); -1 when the database cannot be read yet.
int64_t CountNotifications(const Computer& c, const std::string& where, const std::string& arg) {
  auto db = Database::Open(absl::StrCat(c.data_dir(), "/events.db"));
  if (!db.ok()) return -1;
  auto s = (*db)->Prepare(absl::StrCat("SELECT COUNT(*) FROM notifications WHERE ", where));
  if (!s.ok()) return -1;
  s->Bind(1, arg);
  auto row = s->Step();
  if (!row.ok() || !*row) return -1;
  return s->ColumnInt64(0);
}

// Notifications in `c`'s events.db whose worker_name starts with `prefix`.
int64_t Received(const Computer& c, const std::string& prefix) {
  return CountNotifications(c,
                            "event_type = 'system.worker.crashed' AND "
                            "json_extract(payload, '$.worker_name') LIKE ?",
                            absl::StrCat(prefix, "%"));
}

// mesh.peer.deliveries_dropped notifications in `c`'s events.db whose
// payload names `peer`.
int64_t DropNotifications(const Computer& c, const std::string& peer) {
  return CountNotifications(
      c, "event_type = 'mesh.peer.deliveries_dropped' AND json_extract(payload, '$.peer') = ?",
      peer);
}

// Mesh input keys from A recorded by `c` (one per message id it acted on).
int64_t MeshInputsFromA(const Computer& c) {
  auto db = Database::Open(absl::StrCat(c.data_dir(), "/events.db"));
  if (!db.ok()) return -1;
  auto s = (*db)->Prepare("SELECT COUNT(*) FROM seen_ids WHERE id LIKE 'mesh:A/%'");
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

// Computers `names` on `redis` with inbox window `window`
// (--stream_maxlen), launched and ready; the first one's egress also gets
// `first_egress_flags`.
absl::StatusOr<std::vector<std::unique_ptr<Computer>>> StartMesh(
    const RedisServer& redis, const std::vector<std::string>& names, int64_t window,
    const std::vector<std::string>& first_egress_flags = {}) {
  const std::vector<std::string> flags = {
      "--heartbeat_interval_s=1", "--heartbeat_ttl_s=5", "--peer_refresh_ms=100",
      "--trust_mode=mesh",        "--log_level=info",    absl::StrCat("--stream_maxlen=", window),
  };
  std::vector<std::unique_ptr<Computer>> computers;
  for (const std::string& name : names) {
    ComputerOptions o;
    o.name = name;
    o.redis_url = redis.url();
    o.extra_flags = flags;
    if (computers.empty()) o.service_flags["egress"] = first_egress_flags;
    computers.push_back(std::make_unique<Computer>(std::move(o)));
  }
  for (auto& computer : computers) {
    if (absl::Status s = computer->Launch(); !s.ok()) return s;
  }
  for (auto& computer : computers) {
    if (absl::Status s = computer->AwaitReady(absl::Seconds(60)); !s.ok()) return s;
  }
  return computers;
}

// Whether every one of `peers` is a destination of A (its heartbeat was
// seen): a probe event A produces reaches each.
bool AwaitDestinationsOfA(RedisClient& redis, const std::vector<const Computer*>& peers) {
  return WaitFor(
      [&] {
        Produce(redis, absl::StrCat("probe-", absl::ToUnixMicros(absl::Now()), "-"), 1);
        return WaitFor(
            [&] {
              for (const Computer* peer : peers) {
                if (Received(*peer, "probe-") <= 0) return false;
              }
              return true;
            },
            absl::Seconds(2));
      },
      absl::Seconds(60));
}

TEST(MeshFlowControlE2ETest, AFullPeerHoldsBackOnlyItselfAndReceivesEverythingOnceAfter) {
  RedisServer redis;
  std::unique_ptr<RedisClient> client = redis.Client();
  auto started = StartMesh(redis, {"A", "B", "C"}, kMaxlen);
  ASSERT_TRUE(started.ok()) << started.status();
  std::vector<std::unique_ptr<Computer>>& computers = *started;
  Computer& a = *computers[0];
  Computer& b = *computers[1];
  Computer& c = *computers[2];

  // Both peers are destinations of A (their heartbeats were seen).
  ASSERT_TRUE(AwaitDestinationsOfA(*client, {&b, &c})) << a.LogTails();

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

// Issue 16 "never silently": when the per-peer bound (--outbox_max) forces
// A to drop messages for a peer that does not drain (B's egress stopped,
// its inbox full), the drops are counted per peer and raise ONE
// notification for the episode — not one per message, not none. (Only A
// and B: a healthy peer's backlog is the back-pressure's business, tested
// above.)
TEST(MeshFlowControlE2ETest, DropsForAFullPeerRaiseOneNotificationPerEpisode) {
  // B stops reading: it fills its inbox window (--stream_maxlen), then A's
  // bound, by far.
  constexpr int64_t kOutboxMax = 3000;
  constexpr int64_t kWindow = 2000;
  constexpr int kBurst = 8000;
  RedisServer redis;
  std::unique_ptr<RedisClient> client = redis.Client();
  auto started = StartMesh(redis, {"A", "B"}, kWindow, {absl::StrCat("--outbox_max=", kOutboxMax)});
  ASSERT_TRUE(started.ok()) << started.status();
  std::vector<std::unique_ptr<Computer>>& computers = *started;
  Computer& a = *computers[0];
  Computer& b = *computers[1];
  ASSERT_TRUE(AwaitDestinationsOfA(*client, {&b})) << a.LogTails();
  EXPECT_EQ(DropNotifications(a, "B"), 0);

  // B stops draining: its inbox fills to the flow-control limit, then A's
  // messages for B wait in A's outbox, and past --outbox_max the oldest go.
  ASSERT_TRUE(b.Signal(Service::kEgress, SIGSTOP).ok());
  Produce(*client, "drop1-", kBurst);
  ASSERT_TRUE(WaitFor([&] { return Received(a, "drop1-") == kBurst; }, absl::Seconds(120)))
      << "A has " << Received(a, "drop1-") << "\n"
      << a.LogTails();
  ASSERT_TRUE(WaitFor([&] { return DropNotifications(a, "B") >= 1; }, absl::Seconds(60)))
      << a.LogTails();
  absl::StatusOr<Json> status = a.TelecJson({"status"});
  ASSERT_TRUE(status.ok()) << status.status();
  const rapidjson::Value* pipeline = Member(**status, "pipeline");
  ASSERT_NE(pipeline, nullptr) << ToText(**status);
  const rapidjson::Value* per_peer = Member(*pipeline, "outbox_per_peer");
  ASSERT_NE(per_peer, nullptr) << ToText(*pipeline);
  const rapidjson::Value* to_b = Member(*per_peer, "B");
  ASSERT_NE(to_b, nullptr) << ToText(*per_peer);
  const int64_t dropped_first = Int(*to_b, "dropped");
  EXPECT_GT(dropped_first, 0) << ToText(*per_peer);
  EXPECT_LE(Int(*to_b, "waiting"), kOutboxMax) << ToText(*per_peer);

  // More drops in the same episode are counted, not notified again.
  Produce(*client, "drop2-", kBurst);
  ASSERT_TRUE(WaitFor([&] { return Received(a, "drop2-") == kBurst; }, absl::Seconds(120)))
      << a.LogTails();
  ASSERT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<Json> s = a.TelecJson({"status"});
        if (!s.ok()) return false;
        const rapidjson::Value* p = Member(**s, "pipeline");
        const rapidjson::Value* pp = p == nullptr ? nullptr : Member(*p, "outbox_per_peer");
        const rapidjson::Value* b_row = pp == nullptr ? nullptr : Member(*pp, "B");
        return b_row != nullptr && Int(*b_row, "dropped") >= dropped_first + kBurst - kOutboxMax;
      },
      absl::Seconds(60)))
      << a.LogTails();
  EXPECT_EQ(DropNotifications(a, "B"), 1);
  // The operator sees it where notifications are read.
  absl::StatusOr<testing::CommandResult> list =
      a.Telec({"notifications", "list", "--type", "mesh.peer."});
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_NE(list->out.find("mesh.peer.deliveries_dropped"), std::string::npos) << list->out;
  EXPECT_NE(list->out.find("mesh/B"), std::string::npos) << list->out;

  ASSERT_TRUE(b.Signal(Service::kEgress, SIGCONT).ok());
  for (auto& computer : computers) computer->Stop();
}

}  // namespace
}  // namespace teleclaude::mesh::e2e
