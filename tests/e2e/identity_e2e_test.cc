// Verified computer identities against the attacks of issue 14
// (doc/security.md §10.7), with the real binaries of two computers, A and B
// (cluster x), on one real redis-server, driven through `telec`; attacker
// writes go straight to Redis with a plain client while A's real events flow
// and are counted at B.
#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/envelope/timestamp_codec.h"
#include "common/identity/identity_key.h"
#include "common/identity/pair_key_cache.h"
#include "common/mesh/heartbeat.h"
#include "common/mesh/mesh_message.h"
#include "common/redis/redis_client.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_computer.h"
#include "tests/support/pair_keys.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh::e2e {
namespace {

using ::teleclaude::mesh::testing::RedisServer;
using ::teleclaude::mesh::testing::WaitFor;

constexpr char kCrashed[] = "system.worker.crashed";
const absl::Duration kReady = absl::Seconds(60);
const absl::Duration kHop = absl::Seconds(30);

using Fields = std::vector<std::pair<std::string, std::string>>;

class IdentityE2ETest : public ::testing::Test {
 protected:
  IdentityE2ETest() : redis_client_(redis_.Client()) {}

  ComputerOptions Options(const std::string& name, std::vector<std::string> ingress_flags) {
    ComputerOptions o;
    o.name = name;
    o.cluster = "x";
    o.redis_url = redis_.url();
    o.extra_flags = {"--heartbeat_interval_s=1", "--heartbeat_ttl_s=3", "--peer_refresh_ms=100"};
    o.service_flags["ingress"] = std::move(ingress_flags);
    return o;
  }

  // Starts A and B (B's ingress with `b_ingress_flags`) and waits until each
  // has pinned the other's key.
  void Start(std::vector<std::string> b_ingress_flags = {}) {
    a_ = std::make_unique<Computer>(Options("A", {}));
    b_ = std::make_unique<Computer>(Options("B", std::move(b_ingress_flags)));
    ASSERT_TRUE(a_->Launch().ok());
    ASSERT_TRUE(b_->Launch().ok());
    absl::Status ready = a_->AwaitReady(kReady);
    ASSERT_TRUE(ready.ok()) << ready;
    ready = b_->AwaitReady(kReady);
    ASSERT_TRUE(ready.ok()) << ready;
    ASSERT_TRUE(WaitFor([&] { return Peer(*a_, "B", "verified") == "true"; }, kHop))
        << a_->LogTails();
    ASSERT_TRUE(WaitFor([&] { return Peer(*b_, "A", "verified") == "true"; }, kHop))
        << b_->LogTails();
  }

  void TearDown() override {
    if (!HasFailure()) return;
    for (Computer* c : {a_.get(), b_.get(), m_.get()}) {
      if (c != nullptr) std::cerr << c->LogTails(20);
    }
  }

  // Launches `c` and waits until `telec status` says it is up.
  static void LaunchReady(Computer& c) {
    ASSERT_TRUE(c.Launch().ok());
    absl::Status ready = c.AwaitReady(kReady);
    ASSERT_TRUE(ready.ok()) << ready;
  }

  // This computer's fingerprint as `telec status` shows it.
  static std::string FingerprintOf(Computer& c) {
    absl::StatusOr<Json> status = c.TelecJson({"status"});
    EXPECT_TRUE(status.ok()) << status.status();
    if (!status.ok()) return "";
    const rapidjson::Value* ingress = Member(**status, "ingress");
    return ingress == nullptr ? "" : Str(*ingress, "fingerprint");
  }

  // Writes `text` as a --trusted_keys file; returns its path.
  std::string WriteTrustedKeys(const std::string& text) {
    const std::string path = files_.File("trusted_keys");
    std::ofstream(path) << text;
    return path;
  }

  // Field `field` of peer `name` in `telec peers --json` on `on`, as text
  // ("" when absent).
  static std::string Peer(Computer& on, const std::string& name, const std::string& field) {
    absl::StatusOr<Json> peers = on.TelecJson({"peers"});
    if (!peers.ok()) return "";
    const rapidjson::Value* list = Member(**peers, "peers");
    if (list == nullptr || !list->IsArray()) return "";
    for (const rapidjson::Value& p : list->GetArray()) {
      if (Str(p, "name") != name) continue;
      const rapidjson::Value* v = Member(p, field);
      if (v == nullptr) return "";
      if (v->IsString()) return v->GetString();
      return ToText(*v);
    }
    return "";
  }

  static void Emit(Computer& c, const std::string& token, const std::string& visibility) {
    absl::StatusOr<Json> out = c.TelecJson(
        {"events", "emit", kCrashed, "--payload",
         absl::StrCat(R"({"worker_name":")", token, R"(","timestamp":"m","exit_code":1})"),
         "--visibility", visibility});
    ASSERT_TRUE(out.ok()) << out.status();
  }

  // The notifications of `type` on `c`.
  static std::vector<Json> Notifications(Computer& c, const std::string& type) {
    std::vector<Json> out;
    absl::StatusOr<Json> list =
        c.TelecJson({"notifications", "list", "--type", type, "--limit", "1000"});
    if (!list.ok() || !(*list)->IsArray()) return out;
    for (const rapidjson::Value& n : (*list)->GetArray()) {
      auto doc = std::make_shared<rapidjson::Document>();
      doc->CopyFrom(n, doc->GetAllocator());
      out.push_back(std::move(doc));
    }
    return out;
  }

  // Reasons of B's mesh.event.rejected notifications -> count.
  std::map<std::string, int> Rejections() {
    std::map<std::string, int> out;
    for (const Json& n : Notifications(*b_, "mesh.event.rejected")) {
      const rapidjson::Value* payload = Member(*n, "payload");
      if (payload == nullptr) continue;
      // Rejections aggregate per sender and reason (doc/events-db.md
      // "Aggregated notifications"): one row carries their count.
      const rapidjson::Value* count = Member(*payload, "count");
      out[Str(*payload, "reason")] += count != nullptr && count->IsInt() ? count->GetInt() : 1;
    }
    return out;
  }

  // B's mesh.event.rejected rows for entries claiming `sender`: reason ->
  // {count, detail of the last one}.
  std::map<std::string, std::pair<int, std::string>> RejectionsFrom(const std::string& sender) {
    std::map<std::string, std::pair<int, std::string>> out;
    for (const Json& n : Notifications(*b_, "mesh.event.rejected")) {
      const rapidjson::Value* payload = Member(*n, "payload");
      if (payload == nullptr || Str(*payload, "source_computer") != sender) continue;
      const rapidjson::Value* count = Member(*payload, "count");
      auto& [total, detail] = out[Str(*payload, "reason")];
      total += count != nullptr && count->IsInt() ? count->GetInt() : 1;
      detail = Str(*payload, "detail");
    }
    return out;
  }

  // Emits `n` cluster events "{prefix}-{i}" on `c`; returns their tokens.
  static std::vector<std::string> EmitCluster(Computer& c, const std::string& prefix, int n) {
    std::vector<std::string> tokens;
    for (int i = 0; i < n; ++i) {
      tokens.push_back(absl::StrCat(prefix, "-", i));
      Emit(c, tokens.back(), "cluster");
    }
    return tokens;
  }

  // How many of `tokens` `c` holds (crashed notifications, any count).
  static int HeldBy(Computer& c, const std::vector<std::string>& tokens) {
    std::map<std::string, int> got = CrashedNotificationsByWorker(c);
    int n = 0;
    for (const std::string& t : tokens) n += got[t] > 0 ? 1 : 0;
    return n;
  }

  // Entries of messages:{to} sent as `from` whose payload contains `text`.
  int EntriesFrom(const std::string& to, const std::string& from, const std::string& text) {
    absl::StatusOr<RedisReply> r = redis_client_->Command({"XRANGE", MeshStreamKey(to), "-", "+"});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return -1;
    int n = 0;
    for (const RedisReply& entry : r->elements()) {
      const std::vector<RedisReply>& kv = entry.elements()[1].elements();
      bool sender = false;
      bool has_text = false;
      for (size_t i = 0; i + 1 < kv.size(); i += 2) {
        if (kv[i].str() == "source_computer") sender = kv[i + 1].str() == from;
        if (kv[i].str() == "payload") has_text = kv[i + 1].str().find(text) != std::string::npos;
      }
      n += sender && has_text ? 1 : 0;
    }
    return n;
  }

  // Waits until B holds every token exactly once.
  void ExpectEachOnceOnB(const std::vector<std::string>& tokens) {
    EachOnce got = AwaitEachCrashedOnce(*b_, tokens, kHop);
    EXPECT_TRUE(got.doubled.empty())
        << "arrived more than once: " << absl::StrJoin(got.doubled, ", ");
    EXPECT_EQ(got.missing, 0) << got.missing << " of " << tokens.size()
                              << " of A's events did not reach B";
  }

  // A's newest message on messages:B (its fields as sent).
  Fields NewestFromA() {
    absl::StatusOr<RedisReply> r =
        redis_client_->Command({"XREVRANGE", MeshStreamKey("B"), "+", "-", "COUNT", "1"});
    EXPECT_TRUE(r.ok()) << r.status();
    Fields out;
    if (!r.ok() || r->elements().empty()) return out;
    const std::vector<RedisReply>& kv = r->elements()[0].elements()[1].elements();
    for (size_t i = 0; i + 1 < kv.size(); i += 2) out.emplace_back(kv[i].str(), kv[i + 1].str());
    return out;
  }

  static std::string& FieldOf(Fields& fields, const std::string& name) {
    for (auto& [k, v] : fields) {
      if (k == name) return v;
    }
    static std::string none;
    return none;
  }

  void XAdd(const Fields& fields) {
    absl::StatusOr<RedisReply> id =
        redis_client_->Command(RedisClient::XAddArgv(MeshStreamKey("B"), fields, 0));
    ASSERT_TRUE(id.ok()) << id.status();
    ASSERT_FALSE(id->is_error()) << id->str();
  }

  RedisServer redis_;
  std::unique_ptr<RedisClient> redis_client_;
  testing::TempDir files_;
  std::unique_ptr<Computer> a_;
  std::unique_ptr<Computer> b_;
  std::unique_ptr<Computer> m_;  // a third computer, when a test needs one
};

TEST_F(IdentityE2ETest, ForgedSourceComputerIsRefused) {
  Start();
  Emit(*a_, "genuine-0", "cluster");
  ExpectEachOnceOnB({"genuine-0"});
  Fields forged = NewestFromA();
  ASSERT_FALSE(forged.empty());
  std::string& payload = FieldOf(forged, "payload");
  const size_t at = payload.find("genuine-0");
  ASSERT_NE(at, std::string::npos);
  payload.replace(at, 9, "forged-00");
  // Unsigned, and with a made-up auth.
  Fields unsigned_forgery = {{"type", "mesh_event"},
                             {"payload", payload},
                             {"source_computer", "A"},
                             {"message_id", "A/forged-1/B"}};
  XAdd(unsigned_forgery);
  FieldOf(forged, "message_id") = "A/forged-2/B";
  FieldOf(forged, "auth") = "v1:" + std::string(54, 'A') + "==";
  XAdd(forged);
  std::vector<std::string> tokens;
  for (int i = 1; i <= 5; ++i) {
    tokens.push_back(absl::StrCat("genuine-", i));
    Emit(*a_, tokens.back(), "cluster");
  }
  ExpectEachOnceOnB(tokens);
  EXPECT_TRUE(WaitFor([&] { return Rejections()["unauthenticated"] >= 2; }, kHop))
      << "rejections: " << Rejections().size();
  EXPECT_EQ(CrashedNotificationsByWorker(*b_)["forged-00"], 0);
}

TEST_F(IdentityE2ETest, TamperedPayloadIsRefused) {
  Start();
  Emit(*a_, "original", "cluster");
  ExpectEachOnceOnB({"original"});
  Fields copy = NewestFromA();
  std::string& payload = FieldOf(copy, "payload");
  const size_t at = payload.find("original");
  ASSERT_NE(at, std::string::npos);
  payload.replace(at, 8, "tampered");
  FieldOf(copy, "message_id") += "-copy";
  XAdd(copy);
  EXPECT_TRUE(WaitFor([&] { return Rejections()["unauthenticated"] >= 1; }, kHop));
  Emit(*a_, "after", "cluster");
  ExpectEachOnceOnB({"after"});
  EXPECT_EQ(CrashedNotificationsByWorker(*b_)["tampered"], 0);
}

TEST_F(IdentityE2ETest, ReplayedMessageIsRefused) {
  Start();
  Emit(*a_, "once", "cluster");
  ExpectEachOnceOnB({"once"});
  // Verbatim: the same message id, de-duplicated after authentication.
  Fields replay = NewestFromA();
  XAdd(replay);
  // Re-signed with A's real pair key (read from A's data dir) but sent_at 7
  // days old: outside the window.
  absl::StatusOr<PairKeys> keys =
      testing::PairKeysBetween(a_->data_dir(), "A", b_->data_dir(), "B");
  ASSERT_TRUE(keys.ok()) << keys.status();
  std::string payload = FieldOf(replay, "payload");
  payload.replace(payload.find("once"), 4, "old!");
  XAdd(EncodeAuthenticatedMeshMessage(keys->send, MeshStreamKey("B"), payload, "A", "A/stale-1/B",
                                      absl::ToUnixMillis(absl::Now() - absl::Hours(7 * 24))));
  EXPECT_TRUE(WaitFor([&] { return Rejections()["stale"] >= 1; }, kHop));
  Emit(*a_, "after", "cluster");
  ExpectEachOnceOnB({"after"});
  EXPECT_EQ(CrashedNotificationsByWorker(*b_)["once"], 1);
  EXPECT_EQ(CrashedNotificationsByWorker(*b_)["old!"], 0);
}

TEST_F(IdentityE2ETest, ForgedClusterHeartbeatAnnouncesNothing) {
  Start();
  ASSERT_TRUE(redis_client_
                  ->SetEx("computer:evil:heartbeat",
                          R"({"computer_name": "evil", "last_seen": "2030-01-01T00:00:00+00:00", )"
                          R"("cluster": "x"})",
                          absl::Seconds(60))
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return Peer(*a_, "evil", "state") == "live"; }, kHop));
  EXPECT_EQ(Peer(*a_, "evil", "cluster_peer"), "false");
  EXPECT_EQ(Peer(*a_, "evil", "verified"), "false");
  std::vector<std::string> tokens;
  for (int i = 0; i < 3; ++i) {
    tokens.push_back(absl::StrCat("cluster-", i));
    Emit(*a_, tokens.back(), "cluster");
  }
  ExpectEachOnceOnB(tokens);
  absl::StatusOr<int64_t> to_evil = redis_client_->XLen(MeshStreamKey("evil"));
  ASSERT_TRUE(to_evil.ok()) << to_evil.status();
  EXPECT_EQ(*to_evil, 0) << "A forwarded cluster events to a forged heartbeat";
}

TEST_F(IdentityE2ETest, SecondHeartbeatKeyClaimingAPeerIsRefused) {
  Start();
  ASSERT_TRUE(redis_client_
                  ->SetEx("computer:A0:heartbeat",
                          R"({"computer_name": "A", "last_seen": "2030-01-01T00:00:00+00:00", )"
                          R"("cluster": "evilcluster"})",
                          absl::Seconds(60))
                  .ok());
  std::vector<std::string> tokens;
  for (int i = 0; i < 20; ++i) {
    tokens.push_back(absl::StrCat("real-", i));
    Emit(*a_, tokens.back(), "cluster");
  }
  ExpectEachOnceOnB(tokens);
  EXPECT_EQ(Peer(*b_, "A", "cluster"), "x");
  EXPECT_EQ(Peer(*b_, "A0", "state"), "");
}

TEST_F(IdentityE2ETest, PreemptedMessageIdsDoNotCensor) {
  Start();
  // Issue 14 sent 24,000 forgeries over a 12 s window; scaled to 4,000 over
  // the next 2 s (ids "A/local:teleclaude:events:A:<ms>-{0,1}/B") to keep
  // the test to seconds: the same attack, a shorter window.
  Emit(*a_, "probe", "cluster");
  ExpectEachOnceOnB({"probe"});
  const std::string payload = FieldOf(*std::make_unique<Fields>(NewestFromA()), "payload");
  const int64_t start = absl::ToUnixMillis(absl::Now());
  std::vector<std::vector<std::string>> batch;
  for (int64_t ms = start; ms < start + 2000; ++ms) {
    for (int seq = 0; seq < 2; ++seq) {
      batch.push_back(RedisClient::XAddArgv(
          MeshStreamKey("B"),
          EncodeMeshMessage(payload, "A",
                            absl::StrCat("A/local:teleclaude:events:A:", ms, "-", seq, "/B")),
          0));
    }
  }
  ASSERT_TRUE(redis_client_->Pipeline(batch).ok());
  std::vector<std::string> tokens;
  while (absl::ToUnixMillis(absl::Now()) < start + 2000) {
    tokens.push_back(absl::StrCat("censored?-", tokens.size()));
    Emit(*a_, tokens.back(), "cluster");
  }
  ExpectEachOnceOnB(tokens);
  // Counted by ingress (the notification list shows at most 1000).
  int64_t refused = 0;
  EXPECT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<Json> status = b_->TelecJson({"status"});
        if (!status.ok()) return false;
        const rapidjson::Value* ingress = Member(**status, "ingress");
        const rapidjson::Value* reasons =
            ingress == nullptr ? nullptr : Member(*ingress, "rejected_by_reason");
        refused = reasons == nullptr ? 0 : Int(*reasons, "unauthenticated");
        return refused >= 4000;
      },
      kHop))
      << refused;
}

TEST_F(IdentityE2ETest, ChangedKeyIsRefusedUntilTrusted) {
  Start();
  EXPECT_EQ(a_->Stop(), "");
  ASSERT_EQ(std::remove(IdentityKey::PathIn(a_->data_dir()).c_str()), 0);
  ASSERT_TRUE(a_->Launch().ok());
  absl::Status ready = a_->AwaitReady(kReady);
  ASSERT_TRUE(ready.ok()) << ready;
  ASSERT_TRUE(WaitFor([&] { return Peer(*b_, "A", "state") == "key_changed"; }, kHop));
  Emit(*a_, "refused", "cluster");
  EXPECT_TRUE(WaitFor([&] { return Rejections()["key_changed"] >= 1; }, kHop));
  EXPECT_TRUE(
      WaitFor([&] { return Notifications(*b_, "mesh.peer.key_changed").size() == 1; }, kHop));

  absl::StatusOr<Json> status = a_->TelecJson({"status"});
  ASSERT_TRUE(status.ok()) << status.status();
  const std::string fp = Str(*Member(**status, "ingress"), "fingerprint");
  EXPECT_EQ(Peer(*b_, "A", "pending_fingerprint"), fp);
  // Without --fingerprint: shows it, changes nothing.
  absl::StatusOr<testing::CommandResult> ask = b_->Telec({"peers", "trust", "A"});
  ASSERT_TRUE(ask.ok()) << ask.status();
  EXPECT_NE(ask->exit_code, 0);
  EXPECT_NE(ask->err.find(fp), std::string::npos) << ask->err;
  absl::StatusOr<testing::CommandResult> wrong =
      b_->Telec({"peers", "trust", "A", "--fingerprint=aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa"});
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_NE(wrong->exit_code, 0);
  absl::StatusOr<testing::CommandResult> trust =
      b_->Telec({"peers", "trust", "A", "--fingerprint=" + fp});
  ASSERT_TRUE(trust.ok()) << trust.status();
  ASSERT_EQ(trust->exit_code, 0) << trust->err;
  ASSERT_TRUE(WaitFor([&] { return Peer(*b_, "A", "verified") == "true"; }, kHop));
  Emit(*a_, "accepted", "cluster");
  ExpectEachOnceOnB({"accepted"});
  EXPECT_EQ(CrashedNotificationsByWorker(*b_)["refused"], 0);
  EXPECT_EQ(Notifications(*b_, "mesh.peer.key_changed").size(), 1u);
}

TEST_F(IdentityE2ETest, LapsedHeartbeatLosesNothing) {
  Start();
  // A's ingress frozen for 5 s: its heartbeat (TTL 3 s) lapses while its
  // egress keeps sending; B judges A by its pinned record, not liveness.
  ASSERT_TRUE(a_->Signal(Service::kIngress, SIGSTOP).ok());
  const absl::Time stopped = absl::Now();
  std::vector<std::string> tokens;
  bool saw_away = false;
  while (absl::Now() - stopped < absl::Seconds(5) || !saw_away) {
    tokens.push_back(absl::StrCat("lapsed-", tokens.size()));
    Emit(*a_, tokens.back(), "cluster");
    if (!saw_away) saw_away = Peer(*b_, "A", "state") == "away";
    ASSERT_LT(absl::Now() - stopped, kHop) << "B never saw A away";
  }
  ASSERT_TRUE(a_->Signal(Service::kIngress, SIGCONT).ok());
  ExpectEachOnceOnB(tokens);
}

TEST_F(IdentityE2ETest, UnsignedPythonPeerIsFlagged) {
  Start({"--accept_unsigned_from=py,A", "--trust_mode=mesh"});
  ASSERT_TRUE(redis_client_
                  ->SetEx("computer:py:heartbeat",
                          R"({"computer_name": "py", "last_seen": "2030-01-01T00:00:00+00:00"})",
                          absl::Seconds(60))
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return Peer(*b_, "py", "state") == "live"; }, kHop));
  Emit(*a_, "template", "cluster");
  ExpectEachOnceOnB({"template"});
  std::string payload = FieldOf(*std::make_unique<Fields>(NewestFromA()), "payload");
  for (size_t at; (at = payload.find("template")) != std::string::npos;) {
    payload.replace(at, 8, "from-py!");
  }
  XAdd({{"type", "mesh_event"},
        {"payload", payload},
        {"source_computer", "py"},
        {"message_id", "py/1/B"}});
  // Claiming A (listed too, but its key is pinned): refused.
  std::string claim = payload;
  for (size_t at; (at = claim.find("from-py!")) != std::string::npos;)
    claim.replace(at, 8, "claims-A");
  XAdd({{"type", "mesh_event"},
        {"payload", claim},
        {"source_computer", "A"},
        {"message_id", "A/2/B"}});
  ASSERT_TRUE(WaitFor([&] { return CrashedNotificationsByWorker(*b_)["from-py!"] == 1; }, kHop));
  for (const Json& n : Notifications(*b_, kCrashed)) {
    const rapidjson::Value* p = Member(*n, "payload");
    if (p == nullptr || Str(*p, "worker_name") != "from-py!") continue;
    const rapidjson::Value* flags = Member(*p, "_trust_flags");
    ASSERT_NE(flags, nullptr) << ToText(*n);
    EXPECT_EQ(ToText(*flags), R"(["unsigned"])");
  }
  EXPECT_TRUE(WaitFor([&] { return Rejections()["unauthenticated"] >= 1; }, kHop));
  EXPECT_EQ(CrashedNotificationsByWorker(*b_)["claims-A"], 0);
}

// doc/security.md §6.2–6.3: with --trusted_keys, a name not in the file is
// recorded and shown with the key it offers, but is neither a cluster peer
// nor a trusted sender until a person trusts it; a listed name is trusted.
TEST_F(IdentityE2ETest, TrustedKeysHoldANameNotInTheFile) {
  // A first, so B's file can list A's real fingerprint.
  a_ = std::make_unique<Computer>(Options("A", {}));
  LaunchReady(*a_);
  if (HasFatalFailure()) return;
  const std::string a_fp = FingerprintOf(*a_);
  ASSERT_FALSE(a_fp.empty());
  const std::string file = WriteTrustedKeys(absl::StrCat("# A only\nA ", a_fp, "\n"));
  b_ = std::make_unique<Computer>(Options("B", {"--trusted_keys=" + file}));
  // M: a real computer of cluster x (signed heartbeats), not in B's file.
  m_ = std::make_unique<Computer>(Options("M", {}));
  LaunchReady(*b_);
  LaunchReady(*m_);
  if (HasFatalFailure()) return;
  const std::string m_fp = FingerprintOf(*m_);
  ASSERT_FALSE(m_fp.empty());

  // A: pinned by the file.
  ASSERT_TRUE(WaitFor([&] { return Peer(*b_, "A", "verified") == "true"; }, kHop));
  EXPECT_EQ(Peer(*b_, "A", "fingerprint"), a_fp);
  EXPECT_EQ(Peer(*b_, "A", "key_source"), "provisioned");
  EXPECT_EQ(Peer(*b_, "A", "cluster_peer"), "true");
  // M: recorded and shown with the key it offers; not trusted.
  ASSERT_TRUE(WaitFor([&] { return Peer(*b_, "M", "pending_fingerprint") == m_fp; }, kHop));
  EXPECT_EQ(Peer(*b_, "M", "state"), "live");
  EXPECT_EQ(Peer(*b_, "M", "cluster"), "x");
  EXPECT_EQ(Peer(*b_, "M", "verified"), "false");
  EXPECT_EQ(Peer(*b_, "M", "fingerprint"), "null");
  EXPECT_EQ(Peer(*b_, "M", "cluster_peer"), "false");
  absl::StatusOr<testing::CommandResult> table = b_->Telec({"peers"});
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_NE(table->out.find(absl::StrCat("offers ", m_fp)), std::string::npos) << table->out;
  // Without B's file, A and M pin B's key by first use: both send B their
  // cluster events, and A sends its own to M.
  ASSERT_TRUE(WaitFor([&] { return Peer(*a_, "B", "verified") == "true"; }, kHop));
  ASSERT_TRUE(WaitFor([&] { return Peer(*m_, "B", "verified") == "true"; }, kHop));

  const std::vector<std::string> from_a = EmitCluster(*a_, "from-A", 3);
  const std::vector<std::string> m_held = EmitCluster(*m_, "from-M-held", 3);
  const std::vector<std::string> b_held = EmitCluster(*b_, "from-B-held", 3);
  ExpectEachOnceOnB(from_a);
  EachOnce to_a = AwaitEachCrashedOnce(*a_, b_held, kHop);
  EXPECT_EQ(to_a.missing, 0) << "B's cluster events did not all reach A";
  // M's messages: refused, naming the file.
  EXPECT_TRUE(WaitFor([&] { return RejectionsFrom("M")["unauthenticated"].first >= 3; }, kHop))
      << RejectionsFrom("M").size();
  const std::string detail = RejectionsFrom("M")["unauthenticated"].second;
  EXPECT_NE(detail.find("not in --trusted_keys"), std::string::npos) << detail;
  EXPECT_NE(detail.find(m_fp), std::string::npos) << detail;
  EXPECT_EQ(HeldBy(*b_, m_held), 0);

  // A person trusts M's key: the two-step command, then accepted.
  absl::StatusOr<testing::CommandResult> ask = b_->Telec({"peers", "trust", "M"});
  ASSERT_TRUE(ask.ok()) << ask.status();
  EXPECT_NE(ask->exit_code, 0);
  EXPECT_NE(ask->err.find(m_fp), std::string::npos) << ask->err;
  EXPECT_EQ(Peer(*b_, "M", "verified"), "false");
  absl::StatusOr<testing::CommandResult> trust =
      b_->Telec({"peers", "trust", "M", "--fingerprint=" + m_fp});
  ASSERT_TRUE(trust.ok()) << trust.status();
  ASSERT_EQ(trust->exit_code, 0) << trust->err;
  ASSERT_TRUE(WaitFor([&] { return Peer(*b_, "M", "verified") == "true"; }, kHop));
  EXPECT_EQ(Peer(*b_, "M", "fingerprint"), m_fp);
  EXPECT_EQ(Peer(*b_, "M", "key_source"), "provisioned");
  EXPECT_EQ(Peer(*b_, "M", "pending_fingerprint"), "null");
  ASSERT_TRUE(WaitFor([&] { return Peer(*b_, "M", "cluster_peer") == "true"; }, kHop));

  const std::vector<std::string> m_trusted = EmitCluster(*m_, "from-M-trusted", 3);
  const std::vector<std::string> b_trusted = EmitCluster(*b_, "from-B-trusted", 3);
  ExpectEachOnceOnB(m_trusted);
  EachOnce to_m = AwaitEachCrashedOnce(*m_, b_trusted, kHop);
  EXPECT_EQ(to_m.missing, 0) << "B's cluster events did not reach M once trusted";
  EXPECT_TRUE(to_m.doubled.empty()) << absl::StrJoin(to_m.doubled, ", ");
  // B's outbox to M keeps order, so what B sent M while M was held would
  // have arrived before these: it was never sent.
  EXPECT_EQ(HeldBy(*m_, b_held), 0);
  EXPECT_EQ(EntriesFrom("M", "B", "from-B-held"), 0) << "B sent M cluster events while M was held";
  EXPECT_GT(EntriesFrom("M", "B", "from-B-trusted"), 0);  // the same count sees them
  // Refused means gone: M's held events never appear at B.
  EXPECT_EQ(HeldBy(*b_, m_held), 0);
}

// doc/security.md §6.2: a name --trusted_keys lists is pinned before its
// first heartbeat, so a heartbeat claiming it with another key is refused
// even on first sight (without the file it would be pinned by first use).
TEST_F(IdentityE2ETest, TrustedKeysWinOverFirstUse) {
  // A ran once (its fingerprint is known) and is stopped before B starts.
  a_ = std::make_unique<Computer>(Options("A", {}));
  LaunchReady(*a_);
  if (HasFatalFailure()) return;
  const std::string a_fp = FingerprintOf(*a_);
  ASSERT_FALSE(a_fp.empty());
  EXPECT_EQ(a_->Stop(), "");
  // An impostor heartbeats as A with its own key, claiming cluster x, from
  // before B starts (rewritten so its last_seen stays fresh).
  std::unique_ptr<IdentityKey> impostor = IdentityKey::Generate();
  const std::string impostor_fp = impostor->fingerprint().ToString();
  auto forge = [&] {
    Heartbeat hb{"A", FormatTimestampStream(Timestamp::NowUtc()), "x"};
    absl::Status s = redis_client_->SetEx(HeartbeatKey("A"), EncodeSignedHeartbeat(hb, *impostor),
                                          absl::Seconds(3));
    EXPECT_TRUE(s.ok()) << s;
  };
  forge();
  b_ = std::make_unique<Computer>(
      Options("B", {"--trusted_keys=" + WriteTrustedKeys(absl::StrCat("A ", a_fp, "\n"))}));
  ASSERT_TRUE(b_->Launch().ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        forge();
        return b_->AwaitReady(absl::Milliseconds(500)).ok();
      },
      kReady))
      << b_->LogTails();
  ASSERT_TRUE(WaitFor(
      [&] {
        forge();
        return Peer(*b_, "A", "state") == "key_changed";
      },
      kHop))
      << "A: " << Peer(*b_, "A", "state");
  EXPECT_EQ(Peer(*b_, "A", "pending_fingerprint"), impostor_fp);
  EXPECT_EQ(Peer(*b_, "A", "verified"), "false");
  EXPECT_EQ(Peer(*b_, "A", "cluster_peer"), "false");
  EXPECT_NE(Peer(*b_, "A", "fingerprint"), impostor_fp);
  EXPECT_TRUE(
      WaitFor([&] { return Notifications(*b_, "mesh.peer.key_changed").size() == 1; }, kHop));
  // The file decides, not a person's trust of the offered key.
  absl::StatusOr<testing::CommandResult> trust =
      b_->Telec({"peers", "trust", "A", "--fingerprint=" + impostor_fp});
  ASSERT_TRUE(trust.ok()) << trust.status();
  EXPECT_NE(trust->exit_code, 0);
  EXPECT_NE(trust->err.find("--trusted_keys"), std::string::npos) << trust->err;
  EXPECT_EQ(Peer(*b_, "A", "verified"), "false");

  // The real A comes back: a key_changed record waits for a person, so A's
  // events are refused until `telec peers forget A`; then A's heartbeat,
  // with the file's key, pins it.
  ASSERT_TRUE(a_->Launch().ok());
  absl::Status ready = a_->AwaitReady(kReady);
  ASSERT_TRUE(ready.ok()) << ready;
  ASSERT_TRUE(WaitFor([&] { return Peer(*a_, "B", "verified") == "true"; }, kHop));
  const std::vector<std::string> held = EmitCluster(*a_, "while-held", 2);
  EXPECT_TRUE(WaitFor([&] { return RejectionsFrom("A")["key_changed"].first >= 2; }, kHop));
  EXPECT_EQ(Peer(*b_, "A", "state"), "key_changed");
  absl::StatusOr<testing::CommandResult> forget = b_->Telec({"peers", "forget", "A"});
  ASSERT_TRUE(forget.ok()) << forget.status();
  ASSERT_EQ(forget->exit_code, 0) << forget->err;
  ASSERT_TRUE(WaitFor([&] { return Peer(*b_, "A", "verified") == "true"; }, kHop));
  EXPECT_EQ(Peer(*b_, "A", "fingerprint"), a_fp);
  EXPECT_EQ(Peer(*b_, "A", "key_source"), "provisioned");
  EXPECT_EQ(Peer(*b_, "A", "cluster_peer"), "true");
  const std::vector<std::string> after = EmitCluster(*a_, "after-forget", 3);
  ExpectEachOnceOnB(after);
  EXPECT_EQ(HeldBy(*b_, held), 0);
  EXPECT_EQ(Notifications(*b_, "mesh.peer.key_changed").size(), 1u);
}

}  // namespace
}  // namespace teleclaude::mesh::e2e
