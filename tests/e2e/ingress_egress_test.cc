// End to end on one computer: the real telec-egress and telec-ingress
// binaries on a real redis-server, driven only through Redis (as a peer
// would) and gRPC (as a person would).
#include <grpcpp/client_context.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/base/strings.h"
#include "common/grpc/channel.h"
#include "common/identity/identity_key.h"
#include "common/json/json_text.h"
#include "common/mesh/heartbeat.h"
#include "common/mesh/membership_writer.h"
#include "common/mesh/mesh_message.h"
#include "gtest/gtest.h"
#include "teleclaude/mesh/v1/ingress.grpc.pb.h"
#include "teleclaude/mesh/v1/pipeline.grpc.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
#include "tests/support/local_auth.h"
#include "tests/support/pair_keys.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

#ifndef TM_INGRESS_BINARY
#error "TM_INGRESS_BINARY must name the telec-ingress binary"
#endif
#ifndef TM_EGRESS_BINARY
#error "TM_EGRESS_BINARY must name the telec-egress binary"
#endif

namespace teleclaude::mesh {
namespace {

using testing::ChildProcess;
using testing::WaitFor;

// A catalogued type that creates a notification, from peer `source`.
std::string Crash(const std::string& source, const std::string& worker,
                  const std::string& visibility) {
  return Cat(R"({"event":"system.worker.crashed","source":")", source,
             R"(","level":1,"domain":"system","visibility":")", visibility,
             R"(","payload":{"worker_name":")", worker, R"(","timestamp":"t1"}})");
}

class IngressEgressTest : public ::testing::Test {
 protected:
  // alpha's key, in the data dir its egress uses in
  // APeersEgressForwardsThroughOurIngressIntoOurPipeline.
  testing::TempDir alpha_data_;
  std::unique_ptr<IdentityKey> alpha_key_ =
      *IdentityKey::LoadOrCreate(IdentityKey::PathIn(alpha_data_.path()));
  std::unique_ptr<PairKeys> alpha_to_beta_;
  int sent_ = 0;
  void SetUp() override {
    client_ = redis_.Client();
    egress_addr_ = Cat("127.0.0.1:", testing::FreeLoopbackPort());
    ingress_addr_ = Cat("127.0.0.1:", testing::FreeLoopbackPort());
    installer_addr_ = Cat("127.0.0.1:", testing::FreeLoopbackPort());  // not running
    pipeline_ = v1::Pipeline::NewStub(testing::ServiceChannel(egress_addr_, data_.path()));
    // alpha is a computer with a key: its heartbeat signed (only signed
    // heartbeats announce a cluster), its messages authenticated (AddAtOnce).
    ASSERT_TRUE(
        client_
            ->SetEx(HeartbeatKey("alpha"),
                    EncodeSignedHeartbeat({"alpha",
                                           absl::FormatTime("%Y-%m-%dT%H:%M:%E6S+00:00",
                                                            absl::Now(), absl::UTCTimeZone()),
                                           "red"},
                                          *alpha_key_),
                    absl::Seconds(300))
            .ok());
    StartEgress();
    StartIngress();
  }

  std::vector<std::string> CommonFlags() {
    return {"--computer_name=beta",
            "--cluster=red",
            Cat("--redis_url=", redis_.url()),
            Cat("--data_dir=", data_.path().string()),
            Cat("--egress_addr=", egress_addr_),
            Cat("--ingress_addr=", ingress_addr_),
            Cat("--installer_addr=", installer_addr_),
            "--heartbeat_interval_s=1",
            "--heartbeat_ttl_s=3",
            "--peer_refresh_ms=100"};
  }

  std::unique_ptr<ChildProcess> Start(const std::string& binary, const std::string& name) {
    testing::ChildOptions options;
    options.args = {binary};
    for (std::string& flag : CommonFlags()) options.args.push_back(std::move(flag));
    options.log_path = data_.File(Cat(name, "-", ++starts_, ".log"));
    auto child = ChildProcess::Start(options);
    EXPECT_TRUE(child.ok()) << child.status();
    return child.ok() ? *std::move(child) : nullptr;
  }

  void StartEgress() {
    egress_ = Start(TM_EGRESS_BINARY, "egress");
    ASSERT_TRUE(WaitFor(
        [&] {
          // A fresh channel per try: a channel that met a closed port backs
          // off for seconds before it tries again.
          auto probe = v1::Pipeline::NewStub(testing::ServiceChannel(egress_addr_, data_.path()));
          grpc::ClientContext context;
          context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(500)));
          v1::StatsResponse stats;
          return probe->Stats(&context, v1::StatsRequest(), &stats).ok();
        },
        absl::Seconds(15)))
        << egress_->ReadLog();
  }

  void StartIngress() {
    // A killed predecessor's key would linger until its TTL: wait for ours.
    ASSERT_TRUE(client_->Del({"computer:beta:heartbeat"}).ok());
    ingress_ = Start(TM_INGRESS_BINARY, "ingress");
    ASSERT_TRUE(WaitFor(
        [&] {
          auto v = client_->Get("computer:beta:heartbeat");
          return v.ok() && v->has_value();
        },
        absl::Seconds(10)))
        << ingress_->ReadLog();
  }

  // The fields of a message alpha sends: authenticated with the pair key of
  // alpha's key and beta's (beta's key exists once its services started; they
  // create it), each with its own message id.
  std::vector<std::pair<std::string, std::string>> FromAlpha(const std::string& payload) {
    if (alpha_to_beta_ == nullptr) {
      auto keys = testing::PairKeysBetween(alpha_data_.path(), "alpha", data_.path(), "beta");
      EXPECT_TRUE(keys.ok()) << keys.status();
      if (!keys.ok()) return {};
      alpha_to_beta_ = std::make_unique<PairKeys>(*std::move(keys));
    }
    return EncodeAuthenticatedMeshMessage(alpha_to_beta_->send, "messages:beta", payload, "alpha",
                                          Cat("alpha/", ++sent_), absl::ToUnixMillis(absl::Now()));
  }

  // Many mesh messages in one MULTI/EXEC (one read sees them all): alpha's
  // authenticated, others' (computers without a key) unsigned.
  void AddAtOnce(const std::vector<std::pair<std::string, std::string>>& payload_and_source) {
    std::vector<std::vector<std::string>> commands = {{"MULTI"}};
    for (const auto& [payload, source] : payload_and_source) {
      commands.push_back(RedisClient::XAddArgv(
          "messages:beta",
          source == "alpha" ? FromAlpha(payload) : EncodeMeshMessage(payload, source, ""), 10000));
    }
    commands.push_back({"EXEC"});
    ASSERT_TRUE(client_->Pipeline(commands).ok());
  }

  std::vector<v1::Notification> Notifications(const std::string& type) {
    v1::ListNotificationsRequest request;
    request.set_event_type_prefix(type);
    request.set_limit(1000);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::ListNotificationsResponse response;
    grpc::Status status = pipeline_->ListNotifications(&context, request, &response);
    if (!status.ok()) return {};
    return {response.notifications().begin(), response.notifications().end()};
  }

  // "sender/reason" -> the count of its aggregated mesh.event.rejected
  // notification, summed over rows (doc/events-db.md "Aggregated
  // notifications"); a row without a count counts -1000000.
  using Counts = std::map<std::string, int64_t>;
  Counts RejectedCounts() {
    Counts out;
    for (const v1::Notification& n : Notifications("mesh.event.rejected")) {
      const std::string& p = n.payload_json();
      std::optional<std::string> count = json::GetMember(p, "count");
      out[Cat(json::GetMemberString(p, "source_computer").value_or("None"), "/",
              json::GetMemberString(p, "reason").value_or("?"))] +=
          count.has_value() ? std::stoll(*count) : -1000000;
    }
    return out;
  }

  int64_t Pending() {
    auto info = client_->XInfoGroup("messages:beta", "mesh-ingress");
    return info.ok() ? info->pending : -1;
  }

  testing::RedisServer redis_;
  testing::TempDir data_;
  std::unique_ptr<RedisClient> client_;
  std::string egress_addr_, ingress_addr_, installer_addr_;
  std::unique_ptr<v1::Pipeline::Stub> pipeline_;
  std::unique_ptr<ChildProcess> egress_;
  std::unique_ptr<ChildProcess> ingress_;
  int starts_ = 0;
};

TEST_F(IngressEgressTest, TrustedEventsBecomeNotificationsUnknownSendersAreRejected) {
  AddAtOnce({{Crash("alpha", "w-cluster", "cluster"), "alpha"},
             {Crash("alpha", "w-public", "public"), "alpha"},
             {Crash("zulu", "w-zulu", "public"), "zulu"},
             {"{broken", "alpha"}});
  ASSERT_TRUE(WaitFor([&] { return Notifications("system.worker.crashed").size() == 2; },
                      absl::Seconds(10)))
      << ingress_->ReadLog() << egress_->ReadLog();
  ASSERT_TRUE(
      WaitFor([&] { return Notifications("mesh.event.rejected").size() == 2; }, absl::Seconds(10)));
  for (const v1::Notification& n : Notifications("system.worker.crashed")) {
    EXPECT_EQ(json::GetMemberString(n.payload_json(), "_mesh_source"), "alpha");
    EXPECT_NE(json::GetMemberString(n.payload_json(), "worker_name"), "w-zulu");
  }
  std::map<std::string, std::string> reasons;  // source_computer -> reason
  for (const v1::Notification& n : Notifications("mesh.event.rejected")) {
    reasons[json::GetMemberString(n.payload_json(), "source_computer").value_or("?")] =
        json::GetMemberString(n.payload_json(), "reason").value_or("?");
    EXPECT_EQ(n.level(), v1::EVENT_LEVEL_OPERATIONAL);
    EXPECT_EQ(n.visibility(), v1::EVENT_VISIBILITY_LOCAL);
  }
  EXPECT_EQ(reasons, (std::map<std::string, std::string>{{"alpha", "malformed"},
                                                         {"zulu", "unauthenticated"}}));
  EXPECT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
}

TEST_F(IngressEgressTest, SigkillBetweenSubmitAndAckThenRestartCreatesNoDuplicateNotification) {
  // Redis refuses XACK to ingress' user: every batch reaches egress, none is
  // acknowledged — exactly the state a SIGKILL between Submit and XACK leaves.
  ASSERT_TRUE(client_->Command({"ACL", "SETUSER", "default", "-xack"}).ok());
  // Rejections have no idempotency key: only message_id de-dup keeps a
  // replayed entry from notifying twice.
  std::vector<std::pair<std::string, std::string>> batch;
  for (int i = 0; i < 200; ++i) batch.push_back({Crash("zulu", Cat("z", i), "public"), "zulu"});
  AddAtOnce(batch);
  ASSERT_TRUE(WaitFor(
      [&] {
        return RejectedCounts() == Counts{{"zulu/unauthenticated", 200}};
      },
      absl::Seconds(20)))
      << ingress_->ReadLog();
  EXPECT_EQ(Pending(), 200);  // one batch, stuck on XACK
  ingress_->Kill();
  ASSERT_TRUE(ingress_->Wait(absl::Seconds(5)).ok());
  ASSERT_TRUE(client_->Command({"ACL", "SETUSER", "default", "+xack"}).ok());

  StartIngress();  // re-reads its 200 pending entries, submits them again
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(20))) << ingress_->ReadLog();
  // One aggregated notification, each entry counted once.
  EXPECT_EQ(RejectedCounts(), (Counts{{"zulu/unauthenticated", 200}}));
  grpc::ClientContext context;
  v1::StatsResponse stats;
  ASSERT_TRUE(pipeline_->Stats(&context, v1::StatsRequest(), &stats).ok());
  EXPECT_GE(stats.inputs_duplicate(), 200);
}

// Issue 18 "Floods aggregate": 10,000 garbage entries become three
// notifications whose counts sum to exactly 10,000 — across a SIGKILL of
// ingress in the middle of the flood (entries egress counted but ingress had
// not acknowledged are read again and de-duplicated by their message id) —
// while a trusted peer's events keep arriving.
TEST_F(IngressEgressTest, GarbageFloodAggregatesToExactCountsAcrossIngressSigkill) {
  constexpr int kChunks = 10, kPerChunk = 1000;
  auto add_chunk = [&](int chunk) {
    std::vector<std::vector<std::string>> commands = {{"MULTI"}};
    for (int i = 0; i < kPerChunk; ++i) {
      std::vector<std::pair<std::string, std::string>> fields;
      switch (i % 5) {
        case 0:  // no sender, no envelope
          fields = {{"type", std::string(kMeshEventType)}, {"junk", Cat("x", i)}};
          break;
        case 1:  // an unknown sender's well-formed event
          fields = EncodeMeshMessage(Crash("zulu", Cat("g", chunk, "-", i), "public"), "zulu", "");
          break;
        case 2:  // not JSON, from the trusted peer (authenticated)
          fields = FromAlpha(Cat("{garbage ", i));
          break;
        default:  // not JSON, from the unknown sender (refused before parsing)
          fields = EncodeMeshMessage(Cat("{garbage ", i), "zulu", "");
      }
      commands.push_back(RedisClient::XAddArgv("messages:beta", fields, 0));
    }
    // A trusted peer's event in the middle of each chunk.
    commands.insert(
        commands.begin() + kPerChunk / 2,
        RedisClient::XAddArgv("messages:beta",
                              FromAlpha(Crash("alpha", Cat("legit", chunk), "cluster")), 0));
    commands.push_back({"EXEC"});
    ASSERT_TRUE(client_->Pipeline(commands).ok());
  };
  auto total = [&] {
    int64_t sum = 0;
    for (const auto& [key, n] : RejectedCounts()) sum += n;
    return sum;
  };
  for (int chunk = 0; chunk < kChunks / 2; ++chunk) add_chunk(chunk);
  // SIGKILL while the flood is being drained.
  ASSERT_TRUE(WaitFor([&] { return total() >= 1000; }, absl::Seconds(60), absl::Milliseconds(5)))
      << ingress_->ReadLog();
  ingress_->Kill();
  ASSERT_TRUE(ingress_->Wait(absl::Seconds(5)).ok());
  const int64_t at_kill = total();
  std::cerr << "ingress SIGKILLed with " << at_kill << " rejections counted, " << Pending()
            << " entries pending\n";
  EXPECT_LT(at_kill, kChunks / 2 * kPerChunk) << "the kill came after the first half";
  for (int chunk = kChunks / 2; chunk < kChunks; ++chunk) add_chunk(chunk);
  StartIngress();

  ASSERT_TRUE(WaitFor([&] { return Pending() == 0 && total() == kChunks * kPerChunk; },
                      absl::Seconds(120), absl::Milliseconds(50)))
      << "pending " << Pending() << ", counted " << total() << "\n"
      << ingress_->ReadLog();
  absl::SleepFor(absl::Milliseconds(300));  // nothing more arrives late
  EXPECT_EQ(RejectedCounts(), (Counts{{"None/malformed", 2000},
                                      {"alpha/malformed", 2000},
                                      {"zulu/unauthenticated", 6000}}));
  EXPECT_EQ(Notifications("mesh.event.rejected").size(), 3u);
  std::set<std::string> legit;
  for (const v1::Notification& n : Notifications("system.worker.crashed")) {
    legit.insert(json::GetMemberString(n.payload_json(), "worker_name").value_or("?"));
  }
  EXPECT_EQ(legit.size(), static_cast<size_t>(kChunks));
}

TEST_F(IngressEgressTest, EgressStoppedThenRestartedProcessesEverythingOnce) {
  egress_->Terminate();
  ASSERT_TRUE(egress_->Wait(absl::Seconds(10)).ok());
  for (int i = 0; i < 20; ++i) {
    AddAtOnce({{Crash("alpha", Cat("down", i), "cluster"), "alpha"},
               {Crash("zulu", Cat("zdown", i), "public"), "zulu"}});
    absl::SleepFor(absl::Milliseconds(50));
  }
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_GT(Pending(), 0);  // nothing acknowledged while egress is away
  StartEgress();
  ASSERT_TRUE(WaitFor([&] { return Notifications("system.worker.crashed").size() == 20; },
                      absl::Seconds(15)))
      << ingress_->ReadLog();
  ASSERT_TRUE(WaitFor(
      [&] {
        return RejectedCounts() == Counts{{"zulu/unauthenticated", 20}};
      },
      absl::Seconds(15)));
  EXPECT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(RejectedCounts(), (Counts{{"zulu/unauthenticated", 20}}));
}

TEST_F(IngressEgressTest, APeersEgressForwardsThroughOurIngressIntoOurPipeline) {
  // Computer alpha (cluster red) runs its own egress on the same Redis.
  testing::TempDir& alpha_data = alpha_data_;  // alpha's key signs its heartbeat
  const std::string alpha_addr = Cat("127.0.0.1:", testing::FreeLoopbackPort());
  testing::ChildOptions options;
  options.args = {TM_EGRESS_BINARY,
                  "--computer_name=alpha",
                  "--cluster=red",
                  Cat("--redis_url=", redis_.url()),
                  Cat("--data_dir=", alpha_data.path().string()),
                  Cat("--egress_addr=", alpha_addr),
                  Cat("--ingress_addr=127.0.0.1:", testing::FreeLoopbackPort()),
                  Cat("--installer_addr=", installer_addr_),
                  "--peer_refresh_ms=100"};
  options.log_path = data_.File("alpha-egress.log");
  // alpha's membership.db, as alpha's ingress would keep it (its egress only
  // reads it): our heartbeat makes us its cluster peer.
  MembershipWriter::Options membership;
  membership.redis.endpoint = redis_.endpoint();
  membership.db_path = (alpha_data.path() / "membership.db").string();
  membership.self_name = "alpha";
  membership.self_cluster = "red";
  membership.refresh = absl::Milliseconds(100);
  auto alpha_membership = MembershipWriter::Open(std::move(membership));
  ASSERT_TRUE(alpha_membership.ok()) << alpha_membership.status();
  (*alpha_membership)->Start();
  auto alpha = ChildProcess::Start(options);
  ASSERT_TRUE(alpha.ok()) << alpha.status();
  v1::EmitRequest emit;
  emit.set_event("system.worker.crashed");
  emit.set_payload_json(R"({"worker_name":"from-alpha","timestamp":"t9"})");
  emit.set_visibility(v1::EVENT_VISIBILITY_CLUSTER);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto stub = v1::Pipeline::NewStub(testing::ServiceChannel(alpha_addr, alpha_data.path()));
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(500)));
        v1::EmitResponse response;
        return stub->Emit(&context, emit, &response).ok();
      },
      absl::Seconds(15)))
      << (*alpha)->ReadLog();
  ASSERT_TRUE(WaitFor([&] { return Notifications("system.worker.crashed").size() == 1; },
                      absl::Seconds(10)))
      << (*alpha)->ReadLog() << ingress_->ReadLog();
  const v1::Notification n = Notifications("system.worker.crashed")[0];
  EXPECT_EQ(n.source(), "alpha");
  EXPECT_EQ(json::GetMemberString(n.payload_json(), "_mesh_source"), "alpha");
  EXPECT_EQ(json::GetMemberString(n.payload_json(), "worker_name"), "from-alpha");
  EXPECT_TRUE(Notifications("mesh.event.rejected").empty());
}

}  // namespace
}  // namespace teleclaude::mesh
