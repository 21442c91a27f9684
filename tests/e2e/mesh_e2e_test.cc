// End-to-end tests of a mesh of computers on one real redis-server (issue 8
// §3): every service is the real binary, every action goes through the real
// `telec` (or, for the forged mesh message, straight into Redis as another
// computer would write it).
//
// Topology (started once for the suite):
//   A  cluster x, L1      B  cluster x, L1
//   C  no cluster, L3     D  no cluster, L2 (built-in policy guardian)
// All with --trust_mode=mesh: any computer with a live heartbeat is trusted
// (the default `cluster` mode would make C, which has no cluster, trust
// nobody, so public events could never reach it).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/identity/identity_key.h"
#include "common/mesh/mesh_message.h"
#include "common/redis/redis_client.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_computer.h"
#include "tests/support/membership_pins.h"
#include "tests/support/pair_keys.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh::e2e {
namespace {

using ::teleclaude::mesh::testing::ChildProcess;
using ::teleclaude::mesh::testing::RedisServer;
using ::teleclaude::mesh::testing::TempDir;
using ::teleclaude::mesh::testing::WaitFor;

constexpr char kCrashed[] = "system.worker.crashed";
// How long a mesh hop may take on a loaded 2-core machine.
const absl::Duration kHop = absl::Seconds(20);

// A token unique in this run (lower-case, digits and '-' only: valid in a
// cartridge name).
std::string Unique(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return absl::StrCat(prefix, "-", getpid() % 100000, "-", ++counter, "-",
                      absl::ToUnixMicros(absl::Now()) % 1000000);
}

// The notifications of exactly `type` on a computer whose payload[key] is
// `value` (all of that type when key is empty).
struct Found {
  Json doc;  // keeps the values alive
  std::vector<const rapidjson::Value*> items;
  size_t size() const { return items.size(); }
  const rapidjson::Value& operator[](size_t i) const { return *items[i]; }
};

absl::StatusOr<Found> FindNotifications(Computer& c, const std::string& type,
                                        const std::string& key = "",
                                        const std::string& value = "") {
  absl::StatusOr<Json> list =
      c.TelecJson({"notifications", "list", "--type", type, "--limit", "1000"});
  if (!list.ok()) return list.status();
  if (!(*list)->IsArray()) {
    return absl::InternalError(
        absl::StrCat("notifications list is not an array: ", ToText(**list)));
  }
  Found found{*list, {}};
  for (const rapidjson::Value& n : (*list)->GetArray()) {
    if (Str(n, "event_type") != type) continue;
    if (!key.empty()) {
      const rapidjson::Value* payload = Member(n, "payload");
      if (payload == nullptr || Str(*payload, key) != value) continue;
    }
    found.items.push_back(&n);
  }
  return found;
}

// How many; -1 when telec failed (the error goes to the test log).
int CountNotifications(Computer& c, const std::string& type, const std::string& key,
                       const std::string& value) {
  absl::StatusOr<Found> f = FindNotifications(c, type, key, value);
  if (!f.ok()) {
    ADD_FAILURE() << f.status();
    return -1;
  }
  return static_cast<int>(f->size());
}

// `telec events emit system.worker.crashed` with a unique worker_name (its
// idempotency field) and an explicit visibility; the outcome JSON.
absl::StatusOr<Json> EmitCrash(Computer& c, const std::string& worker,
                               const std::string& visibility) {
  std::string payload =
      absl::StrCat(R"({"worker_name":")", worker, R"(","timestamp":"e2e","exit_code":3})");
  return c.TelecJson({"events", "emit", kCrashed, "--payload", payload, "--visibility", visibility,
                      "--description", absl::StrCat("e2e crash ", worker)});
}

// The cartridge row of `name` in `telec cartridges list --json` (nullptr in
// `found->items` when absent).
absl::StatusOr<Found> FindCartridge(Computer& c, const std::string& name) {
  absl::StatusOr<Json> list = c.TelecJson({"cartridges", "list"});
  if (!list.ok()) return list.status();
  Found found{*list, {}};
  if (!(*list)->IsArray()) {
    return absl::InternalError(absl::StrCat("cartridges list is not an array: ", ToText(**list)));
  }
  for (const rapidjson::Value& row : (*list)->GetArray()) {
    if (Str(row, "name") == name) found.items.push_back(&row);
  }
  return found;
}

// The status of cartridge `name` on `c` ("" when the computer does not know
// it; "error: ..." when telec failed).
std::string CartridgeStatus(Computer& c, const std::string& name) {
  absl::StatusOr<Found> f = FindCartridge(c, name);
  if (!f.ok()) return absl::StrCat("error: ", f.status().message());
  return f->size() == 1 ? Str(f->items[0][0], "status") : "";
}

int64_t InvocationCount(Computer& c, const std::string& name) {
  absl::StatusOr<Found> f = FindCartridge(c, name);
  if (!f.ok() || f->size() != 1) return -1;
  return Int(*f->items[0], "invocation_count");
}

// Every entry of a Redis stream (XRANGE - +).
std::vector<StreamEntry> ReadStream(RedisClient& redis, const std::string& key) {
  absl::StatusOr<RedisReply> reply = redis.Command({"XRANGE", key, "-", "+"});
  if (!reply.ok()) {
    ADD_FAILURE() << "XRANGE " << key << ": " << reply.status();
    return {};
  }
  return RedisClient::ParseEntries(*reply);
}

std::string Field(const StreamEntry& e, const std::string& name) {
  for (const auto& [k, v] : e.fields) {
    if (k == name) return v;
  }
  return "";
}

// How many entries of stream `key` carry `token` anywhere in their fields.
int StreamMentions(RedisClient& redis, const std::string& key, const std::string& token) {
  int n = 0;
  for (const StreamEntry& e : ReadStream(redis, key)) {
    for (const auto& [k, v] : e.fields) {
      if (absl::StrContains(v, token)) {
        ++n;
        break;
      }
    }
  }
  return n;
}

// `telec status --json` of a computer.
absl::StatusOr<Json> Status(Computer& c) { return c.TelecJson({"status"}); }

int64_t Forwarded(const rapidjson::Value& status, const std::string& peer) {
  const rapidjson::Value* pipeline = Member(status, "pipeline");
  if (pipeline == nullptr) return -1;
  const rapidjson::Value* fwd = Member(*pipeline, "forwarded_per_peer");
  if (fwd == nullptr) return -1;
  const rapidjson::Value* n = Member(*fwd, peer);
  return n != nullptr && n->IsInt64() ? n->GetInt64() : 0;
}

int64_t IngressCounter(const rapidjson::Value& status, const char* name) {
  const rapidjson::Value* ingress = Member(status, "ingress");
  return ingress == nullptr ? -1 : Int(*ingress, name);
}

// A Lua cartridge that stamps payload[field] = value on every event.
std::string StampSource(const std::string& field, const std::string& value) {
  return absl::StrCat("-- e2e: stamps the payload\n", "function process(event)\n",
                      "  event.payload[\"", field, "\"] = \"", value, "\"\n", "  return event\n",
                      "end\n");
}

// "stamp-x-1" -> "stamp_x_1" (a payload field name).
std::string FieldName(std::string name) {
  for (char& ch : name) {
    if (ch == '-') ch = '_';
  }
  return name;
}

class MeshE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    redis_ = new RedisServer();
    files_ = new TempDir();
    const std::vector<std::string> fast = {
        "--heartbeat_interval_s=1", "--heartbeat_ttl_s=5", "--peer_refresh_ms=100",
        "--trust_mode=mesh",        "--log_level=info",
    };
    struct Spec {
      Computer** slot;
      const char* name;
      const char* cluster;
      const char* level;
    };
    const Spec specs[] = {
        {&a_, "A", "x", "L1"}, {&b_, "B", "x", "L1"}, {&c_, "C", "", "L3"}, {&d_, "D", "", "L2"}};
    for (const Spec& s : specs) {
      ComputerOptions o;
      o.name = s.name;
      o.cluster = s.cluster;
      o.install_level = s.level;
      o.redis_url = redis_->url();
      o.extra_flags = fast;
      *s.slot = new Computer(std::move(o));
    }
    setup_error_ = new std::string();
    for (Computer* c : All()) {
      absl::Status st = c->Launch();
      if (!st.ok()) {
        *setup_error_ = std::string(st.message());
        return;
      }
    }
    for (Computer* c : All()) {
      absl::Status st = c->AwaitReady(absl::Seconds(60));
      if (!st.ok()) {
        *setup_error_ = std::string(st.message());
        return;
      }
    }
    // Every computer sees the three others as live peers (telec peers).
    for (Computer* c : All()) {
      std::string last;
      bool ok = WaitFor(
          [&] {
            absl::StatusOr<Json> peers = c->TelecJson({"peers"});
            if (!peers.ok()) {
              last = std::string(peers.status().message());
              return false;
            }
            last = ToText(**peers);
            const rapidjson::Value* list = Member(**peers, "peers");
            if (list == nullptr || !list->IsArray()) return false;
            std::set<std::string> names;
            for (const rapidjson::Value& p : list->GetArray()) names.insert(Str(p, "name"));
            for (Computer* other : All()) {
              if (other != c && names.count(other->name()) == 0) return false;
            }
            return names.count(c->name()) == 0;
          },
          absl::Seconds(30), absl::Milliseconds(100));
      if (!ok) {
        *setup_error_ =
            absl::StrCat(c->name(), " does not see the other computers as peers: ", last);
        return;
      }
    }
    // C and D install what A publishes without a person only when A's
    // signature verifies against the key they hold for A (doc/security.md
    // §10.5). Until ingress pins keys from signed heartbeats (§10.1), the
    // test pins A's key in their membership.db.
    absl::StatusOr<std::unique_ptr<IdentityKey>> a_key =
        IdentityKey::LoadOrCreate(IdentityKey::PathIn(a_->data_dir()));
    if (!a_key.ok()) {
      *setup_error_ = std::string(a_key.status().message());
      return;
    }
    for (Computer* c : {c_, d_}) {
      absl::Status pinned = testing::PinPeerKey(
          std::filesystem::path(c->data_dir()) / "membership.db", "A", (*a_key)->public_key());
      if (!pinned.ok()) {
        *setup_error_ = std::string(pinned.message());
        return;
      }
    }
  }

  static void TearDownTestSuite() {
    std::string problems;
    for (Computer* c : All()) {
      if (c != nullptr) problems += c->Stop();
    }
    // DESIGN §2: clean shutdown on SIGTERM.
    if (setup_error_ != nullptr && setup_error_->empty() && !problems.empty()) {
      ADD_FAILURE() << "services did not shut down cleanly on SIGTERM:\n" << problems;
    }
    for (Computer** slot : {&a_, &b_, &c_, &d_}) {
      delete *slot;
      *slot = nullptr;
    }
    delete files_;
    files_ = nullptr;
    delete redis_;
    redis_ = nullptr;
    delete setup_error_;
    setup_error_ = nullptr;
  }

  void SetUp() override {
    // A computer that did not start fails every test (never a skip).
    ASSERT_TRUE(setup_error_->empty()) << "the mesh did not start: " << *setup_error_;
    redis_client_ = redis_->Client();
  }

  void TearDown() override {
    if (HasFailure()) {
      for (Computer* c : All()) std::cerr << c->LogTails(25);
    }
  }

  static std::vector<Computer*> All() { return {a_, b_, c_, d_}; }

  // Writes a Lua file and publishes it from A with `telec cartridges
  // publish`; returns the outcome JSON.
  static absl::StatusOr<Json> PublishFromA(const std::string& name, const std::string& source) {
    std::string path = files_->File(absl::StrCat(name, ".lua"));
    std::ofstream(path) << source;
    return a_->TelecJson({"cartridges", "publish", path, "--name", name, "--version",
                          absl::StrCat("1.0.0-", name), "--description",
                          absl::StrCat("e2e cartridge ", name)});
  }

  // Emits crash events on `c` until one leaves the pipeline with
  // payload[field] == value (the cartridge runs there); false after `timeout`.
  static bool EventShowsStamp(Computer& c, const std::string& field, const std::string& value,
                              absl::Duration timeout, std::string* last) {
    return WaitFor(
        [&] {
          absl::StatusOr<Json> out = EmitCrash(c, Unique("probe"), "local");
          if (!out.ok()) {
            *last = std::string(out.status().message());
            return false;
          }
          *last = ToText(**out);
          const rapidjson::Value* env = Member(**out, "envelope");
          const rapidjson::Value* payload = env ? Member(*env, "payload") : nullptr;
          return payload != nullptr && Str(*payload, field) == value;
        },
        timeout, absl::Milliseconds(200));
  }

  static RedisServer* redis_;
  static TempDir* files_;
  static Computer *a_, *b_, *c_, *d_;
  static std::string* setup_error_;
  std::unique_ptr<RedisClient> redis_client_;
};

RedisServer* MeshE2ETest::redis_ = nullptr;
TempDir* MeshE2ETest::files_ = nullptr;
Computer* MeshE2ETest::a_ = nullptr;
Computer* MeshE2ETest::b_ = nullptr;
Computer* MeshE2ETest::c_ = nullptr;
Computer* MeshE2ETest::d_ = nullptr;
std::string* MeshE2ETest::setup_error_ = nullptr;

// local -> no one; cluster -> B (same cluster), not C; public -> B and C
// (and D); nothing comes back to A.
TEST_F(MeshE2ETest, VisibilityRoutesEventsAndNothingReturnsToSender) {
  absl::StatusOr<Json> before = Status(*a_);
  ASSERT_TRUE(before.ok()) << before.status();
  const std::string tag = Unique("vis");
  const std::string local = tag + "-local";
  const std::string cluster = tag + "-cluster";
  const std::string pub = tag + "-public";

  // In this order: the public one is last, so once it has arrived anywhere,
  // the earlier ones had their chance (one egress, one outbox, in order).
  for (const auto& [worker, vis] : std::vector<std::pair<std::string, std::string>>{
           {local, "local"}, {cluster, "cluster"}, {pub, "public"}}) {
    absl::StatusOr<Json> out = EmitCrash(*a_, worker, vis);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(Str(**out, "status"), "processed") << ToText(**out);
    EXPECT_NE(Int(**out, "notification_id"), 0) << ToText(**out);
    const rapidjson::Value* env = Member(**out, "envelope");
    ASSERT_NE(env, nullptr);
    EXPECT_EQ(Str(*env, "visibility"), vis);
  }

  for (Computer* peer : {b_, c_, d_}) {
    ASSERT_TRUE(
        WaitFor([&] { return CountNotifications(*peer, kCrashed, "worker_name", pub) == 1; }, kHop,
                absl::Milliseconds(100)))
        << "the public event from A did not reach " << peer->name();
  }
  // B (cluster x) got the cluster event, stamped as coming from A.
  ASSERT_TRUE(
      WaitFor([&] { return CountNotifications(*b_, kCrashed, "worker_name", cluster) == 1; }, kHop,
              absl::Milliseconds(100)))
      << "the cluster event from A did not reach B (same cluster)";
  for (const std::string& w : {cluster, pub}) {
    absl::StatusOr<Found> f = FindNotifications(*b_, kCrashed, "worker_name", w);
    ASSERT_TRUE(f.ok() && f->size() == 1);
    const rapidjson::Value* payload = Member((*f)[0], "payload");
    ASSERT_NE(payload, nullptr);
    EXPECT_EQ(Str(*payload, "_mesh_source"), "A") << ToText((*f)[0]);
    EXPECT_EQ(Str((*f)[0], "source"), "A") << ToText((*f)[0]);
  }
  absl::StatusOr<Found> on_c = FindNotifications(*c_, kCrashed, "worker_name", pub);
  ASSERT_TRUE(on_c.ok() && on_c->size() == 1);
  EXPECT_EQ(Str(*Member((*on_c)[0], "payload"), "_mesh_source"), "A");

  // The local event reached no one; the cluster one not C (no cluster) nor
  // D (no cluster).
  EXPECT_EQ(CountNotifications(*b_, kCrashed, "worker_name", local), 0) << "local event left A";
  EXPECT_EQ(CountNotifications(*c_, kCrashed, "worker_name", local), 0) << "local event left A";
  EXPECT_EQ(CountNotifications(*d_, kCrashed, "worker_name", local), 0) << "local event left A";
  EXPECT_EQ(CountNotifications(*c_, kCrashed, "worker_name", cluster), 0)
      << "cluster event reached C, which is in no cluster";
  EXPECT_EQ(CountNotifications(*d_, kCrashed, "worker_name", cluster), 0)
      << "cluster event reached D, which is in no cluster";

  // What is on the wire agrees: nothing for A itself, nothing local for
  // anyone, nothing cluster-only for C.
  EXPECT_EQ(StreamMentions(*redis_client_, "messages:A", tag), 0) << "an event came back to A";
  EXPECT_EQ(StreamMentions(*redis_client_, "messages:B", local), 0);
  EXPECT_EQ(StreamMentions(*redis_client_, "messages:B", cluster), 1);
  EXPECT_EQ(StreamMentions(*redis_client_, "messages:B", pub), 1);
  EXPECT_EQ(StreamMentions(*redis_client_, "messages:C", local), 0);
  EXPECT_EQ(StreamMentions(*redis_client_, "messages:C", cluster), 0);
  EXPECT_EQ(StreamMentions(*redis_client_, "messages:C", pub), 1);
  EXPECT_EQ(StreamMentions(*redis_client_, "messages:D", cluster), 0);

  // A keeps exactly its own three notifications, none from the mesh.
  for (const std::string& w : {local, cluster, pub}) {
    absl::StatusOr<Found> f = FindNotifications(*a_, kCrashed, "worker_name", w);
    ASSERT_TRUE(f.ok()) << f.status();
    ASSERT_EQ(f->size(), 1u) << w;
    EXPECT_EQ(Str(*Member((*f)[0], "payload"), "_mesh_source"), "") << ToText((*f)[0]);
  }

  // A's counters: forwarded cluster+public to B, public to C and D, nothing
  // to itself; A's ingress received nothing.
  absl::StatusOr<Json> after = Status(*a_);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(Forwarded(**after, "B") - Forwarded(**before, "B"), 2) << ToText(**after);
  EXPECT_EQ(Forwarded(**after, "C") - Forwarded(**before, "C"), 1) << ToText(**after);
  EXPECT_EQ(Forwarded(**after, "D") - Forwarded(**before, "D"), 1) << ToText(**after);
  EXPECT_EQ(Forwarded(**after, "A"), 0) << ToText(**after);
  EXPECT_EQ(IngressCounter(**after, "received"), IngressCounter(**before, "received"))
      << ToText(**after);
}

// A mesh message from a computer without a heartbeat (so without a pinned
// key) is refused by B as unauthenticated: a mesh.event.rejected notification, and the event itself
// never enters B's pipeline. The same message from a live peer, signed, is accepted (so the
// rejection is about the sender, not the message).
TEST_F(MeshE2ETest, EventFromComputerWithoutHeartbeatIsRejected) {
  absl::StatusOr<std::optional<std::string>> hb = redis_client_->Get("computer:ghost:heartbeat");
  ASSERT_TRUE(hb.ok()) << hb.status();
  ASSERT_FALSE(hb->has_value()) << "precondition: ghost has no heartbeat";

  const std::string ghost_worker = Unique("ghost");
  const std::string peer_worker = Unique("from-a");
  auto envelope = [](const std::string& source, const std::string& worker) {
    return absl::StrCat(
        R"({"event":"system.worker.crashed","version":1,"source":")", source,
        R"(","timestamp":"2025-03-01T12:00:00Z","idempotency_key":null,"level":1,)",
        R"("domain":"system","entity":null,"description":"forged crash","visibility":"cluster",)",
        R"("payload":{"worker_name":")", worker,
        R"(","timestamp":"e2e"},"actions":null,"terminal_when":null,"resolution_shape":null})");
  };
  absl::StatusOr<Json> before = Status(*b_);
  ASSERT_TRUE(before.ok()) << before.status();

  // XADD messages:B ... source_computer ghost (DESIGN §3.3), then the same
  // kind of message from A, a live peer, as a sentinel.
  absl::StatusOr<std::string> ghost_id =
      redis_client_->XAdd("messages:B",
                          {{"type", "mesh_event"},
                           {"payload", envelope("ghost", ghost_worker)},
                           {"source_computer", "ghost"}},
                          10000);
  ASSERT_TRUE(ghost_id.ok()) << ghost_id.status();
  // A signs its messages (doc/security.md §10.3): the sentinel is
  // authenticated with the pair key of A's real key and B's, from their data
  // dirs, as A's egress would send it.
  absl::StatusOr<PairKeys> a_to_b =
      testing::PairKeysBetween(a_->data_dir(), "A", b_->data_dir(), "B");
  ASSERT_TRUE(a_to_b.ok()) << a_to_b.status();
  ASSERT_TRUE(redis_client_
                  ->XAdd("messages:B",
                         EncodeAuthenticatedMeshMessage(
                             a_to_b->send, "messages:B", envelope("A", peer_worker), "A",
                             absl::StrCat("A/", peer_worker), absl::ToUnixMillis(absl::Now())),
                         10000)
                  .ok());

  ASSERT_TRUE(
      WaitFor([&] { return CountNotifications(*b_, kCrashed, "worker_name", peer_worker) == 1; },
              kHop, absl::Milliseconds(100)))
      << "the control message from live peer A was not accepted by B";

  std::string rejected_json;
  ASSERT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<Found> f =
            FindNotifications(*b_, "mesh.event.rejected", "source_computer", "ghost");
        if (!f.ok()) return false;
        for (const rapidjson::Value* n : f->items) {
          if (Str(*Member(*n, "payload"), "stream_entry_id") == *ghost_id) {
            rejected_json = ToText(*n);
            return true;
          }
        }
        return false;
      },
      kHop, absl::Milliseconds(100)))
      << "B has no mesh.event.rejected notification for the ghost's event; B's are: " << [&] {
           absl::StatusOr<Found> all = FindNotifications(*b_, "mesh.event.rejected");
           return all.ok() ? ToText(*all->doc) : std::string(all.status().message());
         }();
  absl::StatusOr<Json> rejected = ParseJson(rejected_json);
  ASSERT_TRUE(rejected.ok());
  const rapidjson::Value* payload = Member(**rejected, "payload");
  ASSERT_NE(payload, nullptr);
  EXPECT_EQ(Str(*payload, "event_type"), kCrashed) << rejected_json;
  EXPECT_EQ(Str(*payload, "reason"), "unauthenticated") << rejected_json;
  EXPECT_EQ(Str(**rejected, "source"), "B") << rejected_json;
  EXPECT_TRUE(absl::StrContains(Str(*payload, "raw"), "\"source\":\"ghost\"")) << rejected_json;

  // Not in B's pipeline: no notification of its type for that worker.
  EXPECT_EQ(CountNotifications(*b_, kCrashed, "worker_name", ghost_worker), 0)
      << "the ghost's event entered B's pipeline";
  absl::StatusOr<Json> after = Status(*b_);
  ASSERT_TRUE(after.ok()) << after.status();
  const rapidjson::Value* reasons = Member(*Member(**after, "ingress"), "rejected_by_reason");
  const rapidjson::Value* reasons_before =
      Member(*Member(**before, "ingress"), "rejected_by_reason");
  ASSERT_NE(reasons, nullptr) << ToText(**after);
  ASSERT_NE(reasons_before, nullptr) << ToText(**before);
  EXPECT_EQ(Int(*reasons, "unauthenticated") -
                std::max<int64_t>(Int(*reasons_before, "unauthenticated"), 0),
            1)
      << ToText(**after);
}

// L1 (B): published on A, the cartridge waits as pending with an actionable
// cartridge.install_pending notification and does not run, until a human
// runs `telec cartridges activate` on B; then it runs in B's pipeline, for
// local events and for events arriving from the mesh (seen on `telec events
// tail --json`).
TEST_F(MeshE2ETest, L1CartridgeIsPendingUntilActivatedThenRunsInPipeline) {
  const std::string name = Unique("stamp-l1");
  const std::string field = FieldName(name);
  absl::StatusOr<Json> published = PublishFromA(name, StampSource(field, name));
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(Str(**published, "status"), "processed") << ToText(**published);

  ASSERT_TRUE(WaitFor([&] { return CartridgeStatus(*b_, name) == "pending"; }, kHop,
                      absl::Milliseconds(100)))
      << "B: " << CartridgeStatus(*b_, name);
  std::string pending_json;
  ASSERT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<Found> f = FindNotifications(*b_, "cartridge.install_pending", "name", name);
        if (!f.ok() || f->size() != 1) return false;
        pending_json = ToText((*f)[0]);
        return true;
      },
      kHop, absl::Milliseconds(100)))
      << "B has no cartridge.install_pending notification for " << name;
  absl::StatusOr<Json> pending = ParseJson(pending_json);
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(Member(**pending, "actionable") != nullptr &&
              Member(**pending, "actionable")->IsTrue())
      << pending_json;
  EXPECT_EQ(Str(*Member(**pending, "payload"), "approve_command"),
            absl::StrCat("telec cartridges activate ", name))
      << pending_json;
  EXPECT_EQ(Str(*Member(**pending, "payload"), "source_computer"), "A") << pending_json;
  EXPECT_EQ(Str(**pending, "agent_status"), "none") << pending_json;

  // Pending: it does not run on B.
  absl::StatusOr<Json> probe = EmitCrash(*b_, Unique("probe"), "local");
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(Str(*Member(*Member(**probe, "envelope"), "payload"), field), "")
      << "a pending cartridge ran on B: " << ToText(**probe);
  EXPECT_EQ(CartridgeStatus(*b_, name), "pending");
  EXPECT_EQ(CountNotifications(*b_, "cartridge.installed", "name", name), 0);

  // A human activates it on B.
  absl::StatusOr<Json> activated = b_->TelecJson({"cartridges", "activate", name});
  ASSERT_TRUE(activated.ok()) << activated.status();
  EXPECT_EQ(Str(**activated, "status"), "active") << ToText(**activated);
  EXPECT_EQ(Str(**activated, "decided_by"), "human") << ToText(**activated);
  EXPECT_EQ(CartridgeStatus(*b_, name), "active");

  std::string last;
  EXPECT_TRUE(EventShowsStamp(*b_, field, name, kHop, &last))
      << "after activation the cartridge does not run on B; last outcome: " << last;
  EXPECT_TRUE(
      WaitFor([&] { return CountNotifications(*b_, "cartridge.installed", "name", name) == 1; },
              kHop, absl::Milliseconds(100)))
      << "no cartridge.installed notification on B";

  // An event from A arriving at B shows the stamp on B's `events tail`.
  absl::StatusOr<std::unique_ptr<ChildProcess>> tail =
      b_->StartTelec({"events", "tail", "--type", kCrashed});
  ASSERT_TRUE(tail.ok()) << tail.status();
  std::string seen;
  bool stamped = WaitFor(
      [&] {
        // The tail may subscribe after an emit: emit again until one shows.
        std::string worker = Unique("tail");
        if (!EmitCrash(*a_, worker, "cluster").ok()) return false;
        return WaitFor(
            [&] {
              for (const Json& line : ParseJsonLines((*tail)->ReadLog())) {
                const rapidjson::Value* env = Member(*line, "envelope");
                const rapidjson::Value* p = env ? Member(*env, "payload") : nullptr;
                if (p == nullptr || Str(*p, "worker_name") != worker) continue;
                seen = ToText(*line);
                return Str(*line, "origin") == "mesh" && Str(*line, "source_computer") == "A" &&
                       Str(*p, field) == name;
              }
              return false;
            },
            absl::Seconds(3), absl::Milliseconds(100));
      },
      kHop, absl::Milliseconds(10));
  EXPECT_TRUE(stamped) << "events tail on B never showed A's event stamped by " << name
                       << "; last line for it: " << seen << "\ntail output:\n"
                       << (*tail)->ReadLog();
  // A (the publisher, L1 as well) does not run it.
  absl::StatusOr<Json> on_a = EmitCrash(*a_, Unique("probe-a"), "local");
  ASSERT_TRUE(on_a.ok()) << on_a.status();
  EXPECT_EQ(Str(*Member(*Member(**on_a, "envelope"), "payload"), field), "");
}

// L3 (C): active at once, nobody asked; runs in C's pipeline.
TEST_F(MeshE2ETest, L3CartridgeIsActiveAtOnce) {
  const std::string name = Unique("stamp-l3");
  const std::string field = FieldName(name);
  absl::StatusOr<Json> published = PublishFromA(name, StampSource(field, name));
  ASSERT_TRUE(published.ok()) << published.status();

  ASSERT_TRUE(WaitFor([&] { return CartridgeStatus(*c_, name) == "active"; }, kHop,
                      absl::Milliseconds(100)))
      << "C: " << CartridgeStatus(*c_, name);
  std::string last;
  EXPECT_TRUE(EventShowsStamp(*c_, field, name, kHop, &last))
      << "the cartridge does not run on C; last outcome: " << last;
  EXPECT_TRUE(
      WaitFor([&] { return CountNotifications(*c_, "cartridge.installed", "name", name) == 1; },
              kHop, absl::Milliseconds(100)));
  EXPECT_EQ(CountNotifications(*c_, "cartridge.install_pending", "name", name), 0)
      << "L3 asked a human";
  // Meanwhile on B (L1) the same cartridge waits for a human.
  EXPECT_TRUE(WaitFor([&] { return CartridgeStatus(*b_, name) == "pending"; }, kHop,
                      absl::Milliseconds(100)));
}

// L2 (D): the built-in guardian decides. A clean cartridge becomes active
// (with an informational cartridge.install_notified); one that calls
// os.execute stays pending for a human, with the guardian's reason.
TEST_F(MeshE2ETest, L2GuardianVerdictIsApplied) {
  const std::string clean = Unique("stamp-l2-ok");
  const std::string clean_field = FieldName(clean);
  const std::string dirty = Unique("stamp-l2-os");
  const std::string dirty_field = FieldName(dirty);
  absl::StatusOr<Json> p1 = PublishFromA(clean, StampSource(clean_field, clean));
  ASSERT_TRUE(p1.ok()) << p1.status();
  // os.execute in a branch that never runs: the guardian reads the source.
  std::string dirty_source = absl::StrCat(
      "function process(event)\n", "  if event.payload.never_set_by_anyone then\n",
      "    os.execute(\"touch /tmp/e2e-should-not-exist\")\n", "  end\n", "  event.payload[\"",
      dirty_field, "\"] = \"", dirty, "\"\n", "  return event\n", "end\n");
  absl::StatusOr<Json> p2 = PublishFromA(dirty, dirty_source);
  ASSERT_TRUE(p2.ok()) << p2.status();

  ASSERT_TRUE(WaitFor([&] { return CartridgeStatus(*d_, clean) == "active"; }, kHop,
                      absl::Milliseconds(100)))
      << "D: " << CartridgeStatus(*d_, clean);
  ASSERT_TRUE(WaitFor([&] { return CartridgeStatus(*d_, dirty) == "pending"; }, kHop,
                      absl::Milliseconds(100)))
      << "D: " << CartridgeStatus(*d_, dirty);

  absl::StatusOr<Found> row = FindCartridge(*d_, clean);
  ASSERT_TRUE(row.ok() && row->size() == 1);
  EXPECT_EQ(Str((*row)[0], "decided_by"), "guardian:policy") << ToText((*row)[0]);
  EXPECT_TRUE(WaitFor(
      [&] { return CountNotifications(*d_, "cartridge.install_notified", "name", clean) == 1; },
      kHop, absl::Milliseconds(100)))
      << "no cartridge.install_notified for the approved cartridge on D";
  EXPECT_EQ(CountNotifications(*d_, "cartridge.install_pending", "name", clean), 0);

  absl::StatusOr<Found> bad = FindCartridge(*d_, dirty);
  ASSERT_TRUE(bad.ok() && bad->size() == 1);
  EXPECT_TRUE(absl::StrContains(Str((*bad)[0], "reason"), "os")) << ToText((*bad)[0]);
  std::string pending_reason;
  EXPECT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<Found> f =
            FindNotifications(*d_, "cartridge.install_pending", "name", dirty);
        if (!f.ok() || f->size() != 1) return false;
        pending_reason = Str(*Member((*f)[0], "payload"), "reason");
        return true;
      },
      kHop, absl::Milliseconds(100)))
      << "no cartridge.install_pending for the denied cartridge on D";
  EXPECT_TRUE(absl::StrContains(pending_reason, "os")) << pending_reason;
  EXPECT_EQ(CountNotifications(*d_, "cartridge.installed", "name", dirty), 0);

  // In D's pipeline: the approved one runs, the denied one does not.
  std::string last;
  EXPECT_TRUE(EventShowsStamp(*d_, clean_field, clean, kHop, &last))
      << "the approved cartridge does not run on D; last outcome: " << last;
  absl::StatusOr<Json> probe = EmitCrash(*d_, Unique("probe"), "local");
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(Str(*Member(*Member(**probe, "envelope"), "payload"), dirty_field), "")
      << "the denied cartridge runs on D: " << ToText(**probe);
}

// After ten events pass an active cartridge, cartridge.promotion_suggested
// appears, once; `telec cartridges list` shows the counts.
TEST_F(MeshE2ETest, PromotionSuggestedOnceAfterTenInvocations) {
  const std::string name = Unique("promo");
  const std::string field = FieldName(name);
  absl::StatusOr<Json> published = PublishFromA(name, StampSource(field, name));
  ASSERT_TRUE(published.ok()) << published.status();
  ASSERT_TRUE(WaitFor([&] { return CartridgeStatus(*c_, name) == "active"; }, kHop,
                      absl::Milliseconds(100)))
      << "C: " << CartridgeStatus(*c_, name);

  // Every event C processes, as a person following `telec events tail`
  // sees it (dropped ones included): the suggestion must be emitted once,
  // not emitted again and merely hidden by dedup.
  absl::StatusOr<std::unique_ptr<ChildProcess>> tail = c_->StartTelec({"events", "tail"});
  ASSERT_TRUE(tail.ok()) << tail.status();
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string worker = Unique("promo-sub");
        if (!EmitCrash(*c_, worker, "local").ok()) return false;
        return WaitFor([&] { return absl::StrContains((*tail)->ReadLog(), worker); },
                       absl::Seconds(2), absl::Milliseconds(50));
      },
      kHop, absl::Milliseconds(10)))
      << "events tail on C shows nothing: " << (*tail)->ReadLog();

  // Events pass the cartridge on C one at a time. The invariant at every
  // step: a suggestion exists only once the count reached 10, and never
  // more than one. (Other events on C pass it too, so the count may grow
  // faster than our emits.)
  int emitted_through = 0;  // our events that the cartridge stamped
  bool seen_below_threshold = false;
  int suggestions = 0;
  int64_t count = 0;
  for (int i = 0; i < 40 && suggestions == 0; ++i) {
    absl::StatusOr<Json> out = EmitCrash(*c_, Unique("promo-ev"), "local");
    ASSERT_TRUE(out.ok()) << out.status();
    if (Str(*Member(*Member(**out, "envelope"), "payload"), field) == name) {
      ++emitted_through;
    }
    // Let the count settle (invocations reach the installer in batches).
    WaitFor([&] { return InvocationCount(*c_, name) >= emitted_through; }, absl::Seconds(5),
            absl::Milliseconds(50));
    suggestions = CountNotifications(*c_, "cartridge.promotion_suggested", "cartridge_name", name);
    count = InvocationCount(*c_, name);
    ASSERT_LE(suggestions, 1) << "promotion suggested more than once at count " << count;
    if (suggestions == 1) {
      ASSERT_GE(count, 10) << "promotion suggested before the threshold";
    } else if (count < 10) {
      seen_below_threshold = true;
    }
    if (count >= 10 && suggestions == 0) {
      // Reached: the suggestion is on its way (installer -> egress).
      suggestions = WaitFor(
                        [&] {
                          return CountNotifications(*c_, "cartridge.promotion_suggested",
                                                    "cartridge_name", name) >= 1;
                        },
                        kHop, absl::Milliseconds(100))
                        ? 1
                        : 0;
      ASSERT_EQ(suggestions, 1) << "count " << count << " >= 10 but no promotion suggested";
    }
  }
  EXPECT_TRUE(seen_below_threshold) << "never observed the count below the threshold";
  EXPECT_GE(emitted_through, 1);
  ASSERT_EQ(suggestions, 1) << "no promotion suggested after " << emitted_through
                            << " events; count " << count;

  // Ten more: still exactly one suggestion.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(EmitCrash(*c_, Unique("promo-more"), "local").ok());
  }
  int64_t target = count + 10;
  EXPECT_TRUE(
      WaitFor([&] { return InvocationCount(*c_, name) >= target; }, kHop, absl::Milliseconds(100)))
      << "telec cartridges list count " << InvocationCount(*c_, name) << " < " << target;
  absl::StatusOr<Found> promo =
      FindNotifications(*c_, "cartridge.promotion_suggested", "cartridge_name", name);
  ASSERT_TRUE(promo.ok()) << promo.status();
  ASSERT_EQ(promo->size(), 1u);
  EXPECT_TRUE(Member((*promo)[0], "actionable")->IsTrue()) << ToText((*promo)[0]);
  std::vector<std::string> watched;
  for (const Json& line : ParseJsonLines((*tail)->ReadLog())) {
    const rapidjson::Value* env = Member(*line, "envelope");
    const rapidjson::Value* p = env ? Member(*env, "payload") : nullptr;
    if (p != nullptr && Str(*env, "event") == "cartridge.promotion_suggested" &&
        Str(*p, "cartridge_name") == name) {
      watched.push_back(ToText(*line));
    }
  }
  ASSERT_EQ(watched.size(), 1u) << "cartridge.promotion_suggested for " << name
                                << " went through C's pipeline " << watched.size() << " times:\n"
                                << absl::StrJoin(watched, "\n");
  EXPECT_TRUE(absl::StrContains(watched[0], "\"status\":\"processed\"")) << watched[0];
  absl::StatusOr<Found> row = FindCartridge(*c_, name);
  ASSERT_TRUE(row.ok() && row->size() == 1);
  EXPECT_GE(Int((*row)[0], "invocation_count"), 20) << ToText((*row)[0]);
  EXPECT_NE(Str((*row)[0], "last_invoked_at"), "") << ToText((*row)[0]);
}

// cartridge.invoked is recorded locally (seen with `events tail
// --include-meta`) and never appears on any computer's mesh stream.
TEST_F(MeshE2ETest, CartridgeInvokedNeverLeavesTheComputer) {
  const std::string name = Unique("invoked");
  absl::StatusOr<Json> published = PublishFromA(name, StampSource(FieldName(name), name));
  ASSERT_TRUE(published.ok()) << published.status();
  ASSERT_TRUE(WaitFor([&] { return CartridgeStatus(*c_, name) == "active"; }, kHop,
                      absl::Milliseconds(100)))
      << "C: " << CartridgeStatus(*c_, name);

  absl::StatusOr<std::unique_ptr<ChildProcess>> tail =
      c_->StartTelec({"events", "tail", "--type", "cartridge.invoked", "--include-meta"});
  ASSERT_TRUE(tail.ok()) << tail.status();
  // A person tries to push one to the mesh by hand: whether egress refuses
  // it or processes it, it must not leave C.
  absl::StatusOr<testing::CommandResult> forged =
      c_->Telec({"events", "emit", "cartridge.invoked", "--visibility", "public", "--payload",
                 absl::StrCat(R"({"cartridge_name":")", name, R"(","event_type":"forged"})")});
  ASSERT_TRUE(forged.ok()) << forged.status();
  // Public events on C go to every peer and pass C's cartridges (and, sent
  // after the forged one, they show when C's outbox has passed it).
  std::string last_pub;
  bool invoked_seen = WaitFor(
      [&] {
        last_pub = Unique("inv-pub");
        if (!EmitCrash(*c_, last_pub, "public").ok()) return false;
        return WaitFor(
            [&] {
              for (const Json& line : ParseJsonLines((*tail)->ReadLog())) {
                const rapidjson::Value* env = Member(*line, "envelope");
                const rapidjson::Value* p = env ? Member(*env, "payload") : nullptr;
                if (p != nullptr && Str(*env, "event") == "cartridge.invoked" &&
                    Str(*p, "cartridge_name") == name) {
                  return true;
                }
              }
              return false;
            },
            absl::Seconds(3), absl::Milliseconds(100));
      },
      kHop, absl::Milliseconds(10));
  ASSERT_TRUE(invoked_seen) << "no cartridge.invoked for " << name << " on C's tail:\n"
                            << (*tail)->ReadLog();
  // The last public event reached the others (so whatever C would forward
  // has been forwarded).
  for (Computer* peer : {a_, b_, d_}) {
    EXPECT_TRUE(
        WaitFor([&] { return CountNotifications(*peer, kCrashed, "worker_name", last_pub) == 1; },
                kHop, absl::Milliseconds(100)))
        << "C's public event did not reach " << peer->name();
  }

  absl::StatusOr<std::vector<std::string>> streams = redis_client_->ScanKeys("messages:*");
  ASSERT_TRUE(streams.ok()) << streams.status();
  EXPECT_GE(streams->size(), 4u) << absl::StrJoin(*streams, ", ");
  int mesh_events = 0;
  for (const std::string& key : *streams) {
    for (const StreamEntry& e : ReadStream(*redis_client_, key)) {
      std::string payload = Field(e, "payload");
      if (Field(e, "type") == "mesh_event") ++mesh_events;
      EXPECT_FALSE(absl::StrContains(payload, "cartridge.invoked"))
          << key << " " << e.id << " carries a cartridge.invoked: " << payload;
    }
  }
  EXPECT_GT(mesh_events, 0) << "no mesh traffic at all: the scan proves nothing";
  std::cerr << "forged public cartridge.invoked: telec exit " << forged->exit_code << ": "
            << forged->out << forged->err;
  // Nor does it become a notification anywhere.
  for (Computer* c : All()) {
    EXPECT_EQ(CountNotifications(*c, "cartridge.invoked", "", ""), 0) << c->name();
  }
}

}  // namespace
}  // namespace teleclaude::mesh::e2e
