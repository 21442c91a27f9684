// Integration tests of the real telec-ingress binary: a real redis-server, a
// real gRPC Pipeline server standing in for egress, and the Ingress gRPC API.
#include <grpcpp/client_context.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/base/strings.h"
#include "common/grpc/channel.h"
#include "common/identity/identity_key.h"
#include "common/identity/pair_key_cache.h"
#include "common/json/json_text.h"
#include "common/mesh/heartbeat.h"
#include "common/mesh/mesh_message.h"
#include "gtest/gtest.h"
#include "teleclaude/mesh/v1/ingress.grpc.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
#include "tests/support/local_auth.h"
#include "tests/support/recording_pipeline.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

#ifndef TM_INGRESS_BINARY
#error "TM_INGRESS_BINARY must name the telec-ingress binary"
#endif

namespace teleclaude::mesh {
namespace {

using testing::ChildProcess;
using testing::RecordingPipelineServer;
using testing::WaitFor;

std::string Envelope(const std::string& type, const std::string& source,
                     const std::string& visibility) {
  return Cat(R"({"event":")", type, R"(","source":")", source,
             R"(","level":1,"domain":"ops","visibility":")", visibility,
             R"(","payload":{"k":"v"}})");
}

class IngressBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = redis_.Client();
    ingress_addr_ = Cat("127.0.0.1:", testing::FreeLoopbackPort());
    stub_ = v1::Ingress::NewStub(testing::OwnerChannel(ingress_addr_, data_.path()));
    // Peers with keys, their heartbeats signed (only a signed heartbeat
    // announces a cluster, doc/security.md §6): alpha in our cluster, bravo
    // in another one.
    const std::string now =
        absl::FormatTime("%Y-%m-%dT%H:%M:%E6S+00:00", absl::Now(), absl::UTCTimeZone());
    for (auto [name, cluster, key] : {std::tuple{"alpha", "red", alpha_key_.get()},
                                      std::tuple{"bravo", "blue", bravo_key_.get()}}) {
      ASSERT_TRUE(client_
                      ->SetEx(HeartbeatKey(name), EncodeSignedHeartbeat({name, now, cluster}, *key),
                              absl::Seconds(120))
                      .ok());
    }
  }

  // beta's identity key: telec-ingress creates it in its data_dir.
  std::unique_ptr<IdentityKey> BetaKey() {
    auto key = IdentityKey::LoadOrCreate(IdentityKey::PathIn(data_.path()));
    EXPECT_TRUE(key.ok()) << key.status();
    return key.ok() ? *std::move(key) : nullptr;
  }

  // A mesh message as its sender writes it: alpha authenticates its
  // messages with the pair key for beta (doc/security.md §10); other
  // senders have no key and send unsigned.
  std::vector<std::pair<std::string, std::string>> MeshFields(const std::string& payload,
                                                              const std::string& source,
                                                              const std::string& message_id) {
    if (source != "alpha") return EncodeMeshMessage(payload, source, message_id);
    if (!beta_key_) beta_key_ = BetaKey();
    if (!beta_key_) return {};
    auto keys = DerivePairKeys(*alpha_key_, "alpha", "beta", beta_key_->public_key());
    EXPECT_TRUE(keys.ok()) << keys.status();
    return EncodeAuthenticatedMeshMessage(keys->send, "messages:beta", payload, source,
                                          message_id.empty() ? Cat("alpha/", ++sent_) : message_id,
                                          absl::ToUnixMillis(absl::Now()));
  }

  // Starts telec-ingress for computer beta (cluster red) and waits until its
  // heartbeat is up (it is published once the consumer group exists).
  void StartIngress() {
    // A killed predecessor's key would linger until its TTL: wait for ours.
    ASSERT_TRUE(client_->Del({"computer:beta:heartbeat"}).ok());
    testing::ChildOptions options;
    options.args = {TM_INGRESS_BINARY, "--computer_name=beta", "--cluster=red",
                    Cat("--redis_url=", redis_.url()), Cat("--data_dir=", data_.path().string()),
                    Cat("--ingress_addr=", ingress_addr_), Cat("--egress_addr=", pipeline_.addr()),
                    // Every address explicit: a free port may be another default.
                    Cat("--installer_addr=127.0.0.1:", testing::FreeLoopbackPort()),
                    "--heartbeat_interval_s=1", "--heartbeat_ttl_s=3", "--peer_refresh_ms=100"};
    options.log_path = data_.File(Cat("ingress-", ++starts_, ".log"));
    auto child = ChildProcess::Start(options);
    ASSERT_TRUE(child.ok()) << child.status();
    ingress_ = *std::move(child);
    ASSERT_TRUE(WaitFor(
        [&] {
          auto v = client_->Get("computer:beta:heartbeat");
          return v.ok() && v->has_value();
        },
        absl::Seconds(10)))
        << ingress_->ReadLog();
  }

  std::string AddMesh(const std::string& payload, const std::string& source,
                      const std::string& message_id = "") {
    auto id = client_->XAdd("messages:beta", MeshFields(payload, source, message_id), 10000);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or("");
  }

  void AddManyAtOnce(int n, const std::string& prefix) {
    std::vector<std::vector<std::string>> commands = {{"MULTI"}};
    for (int i = 0; i < n; ++i) {
      commands.push_back(
          RedisClient::XAddArgv("messages:beta",
                                MeshFields(Envelope("deployment.started", "alpha", "cluster"),
                                           "alpha", Cat("alpha:", prefix, i)),
                                10000));
    }
    commands.push_back({"EXEC"});
    ASSERT_TRUE(client_->Pipeline(commands).ok());
  }

  int64_t Pending() {
    auto info = client_->XInfoGroup("messages:beta", "mesh-ingress");
    return info.ok() ? info->pending : -1;
  }

  v1::IngressStatusResponse Status() {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::IngressStatusResponse response;
    grpc::Status status = stub_->Status(&context, v1::IngressStatusRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::unique_ptr<IdentityKey> alpha_key_ = IdentityKey::Generate();
  std::unique_ptr<IdentityKey> bravo_key_ = IdentityKey::Generate();
  std::unique_ptr<IdentityKey> beta_key_;
  int sent_ = 0;
  testing::RedisServer redis_;
  testing::TempDir data_;
  RecordingPipelineServer pipeline_;
  std::unique_ptr<RedisClient> client_;
  std::string ingress_addr_;
  std::unique_ptr<v1::Ingress::Stub> stub_;
  std::unique_ptr<ChildProcess> ingress_;
  int starts_ = 0;
};

// doc/membership.md "Clean stop": SIGTERM leaves a "stopping" heartbeat
// with the TTL (peers record us away and keep us as a destination), it is
// not deleted.
TEST_F(IngressBinaryTest, HeartbeatHasTheRightJsonAndTtlAndSaysStoppingOnSigterm) {
  StartIngress();
  auto value = client_->Get("computer:beta:heartbeat");
  ASSERT_TRUE(value.ok() && value->has_value());
  // Signed by beta's identity key ({data_dir}/identity.key): public_key,
  // fingerprint and signature follow the fields, and the signature verifies.
  auto checked = DecodeSignedHeartbeat("computer:beta:heartbeat", **value);
  ASSERT_TRUE(checked.ok()) << checked.status() << ": " << **value;
  const Heartbeat& heartbeat = checked->heartbeat;
  EXPECT_EQ(heartbeat.computer_name, "beta");
  EXPECT_EQ(heartbeat.cluster, "red");
  ASSERT_TRUE(checked->signer.has_value()) << **value;
  std::unique_ptr<IdentityKey> beta_key = BetaKey();
  ASSERT_NE(beta_key, nullptr);
  EXPECT_TRUE(checked->signer->public_key == beta_key->public_key());
  EXPECT_EQ(checked->signer->fingerprint.ToString(), beta_key->fingerprint().ToString());
  EXPECT_EQ(**value, EncodeSignedHeartbeat(heartbeat, checked->signer->public_key,
                                           checked->signer->signature));
  EXPECT_NE(json::GetMemberString(**value, "public_key"), std::nullopt);
  EXPECT_NE(json::GetMemberString(**value, "fingerprint"), std::nullopt);
  EXPECT_NE(json::GetMemberString(**value, "signature"), std::nullopt);
  auto ttl = client_->Command({"PTTL", "computer:beta:heartbeat"});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer(), 0);
  EXPECT_LE(ttl->integer(), 3000);

  ingress_->Terminate();
  auto exit = ingress_->Wait(absl::Seconds(10));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->exited());
  EXPECT_EQ(exit->exit_code, 0) << ingress_->ReadLog();
  auto stopping = client_->Get("computer:beta:heartbeat");
  ASSERT_TRUE(stopping.ok() && stopping->has_value());
  auto last_checked = DecodeSignedHeartbeat("computer:beta:heartbeat", **stopping);
  ASSERT_TRUE(last_checked.ok()) << last_checked.status() << ": " << **stopping;
  ASSERT_TRUE(last_checked->signer.has_value()) << **stopping;
  EXPECT_TRUE(last_checked->signer->public_key == beta_key->public_key());
  const Heartbeat* last = &last_checked->heartbeat;
  EXPECT_EQ(last->computer_name, "beta");
  EXPECT_EQ(last->cluster, "red");
  EXPECT_EQ(last->state, HeartbeatState::kStopping);
  auto last_ttl = client_->Command({"PTTL", "computer:beta:heartbeat"});
  ASSERT_TRUE(last_ttl.ok());
  EXPECT_GT(last_ttl->integer(), 0);
  EXPECT_LE(last_ttl->integer(), 3000);
}

TEST_F(IngressBinaryTest, TrustGateDecodingAndNonMeshMessagesEndToEnd) {
  StartIngress();
  AddMesh(Envelope("deployment.started", "alpha", "cluster"), "alpha", "alpha:c1");
  AddMesh(Envelope("deployment.finished", "alpha", "public"), "alpha", "alpha:p1");
  auto other = client_->XAdd("messages:beta", {{"type", "session_message"}, {"body", "hi"}}, 10000);
  ASSERT_TRUE(other.ok());
  const std::string zulu = AddMesh(Envelope("deployment.started", "zulu", "public"), "zulu");
  const std::string bad = AddMesh("{\"event\": \"x\", \xff", "alpha");
  const std::string no_source =
      client_->XAdd("messages:beta", {{"type", "mesh_event"}, {"payload", "{}"}}, 10000).value();
  AddMesh(Envelope("deployment.after", "alpha", "cluster"), "alpha", "alpha:c2");

  testing::RecordingPipeline& p = pipeline_.pipeline();
  ASSERT_TRUE(WaitFor([&] { return p.Processed().size() == 6; }, absl::Seconds(10)))
      << p.Processed().size() << "\n"
      << ingress_->ReadLog();
  std::map<std::string, v1::SubmittedEvent> by_id;
  for (const v1::SubmittedEvent& e : p.Processed()) by_id[e.message_id()] = e;

  // Trusted cluster and public events reach the pipeline with _mesh_source.
  for (const char* id : {"alpha:c1", "alpha:p1", "alpha:c2"}) {
    ASSERT_TRUE(by_id.count(id)) << id;
    EXPECT_EQ(by_id[id].origin(), v1::ORIGIN_MESH);
    EXPECT_EQ(by_id[id].source_computer(), "alpha");
    EXPECT_EQ(json::GetMemberString(by_id[id].envelope().payload_json(), "_mesh_source"), "alpha");
  }
  // The unknown sender's event is not submitted; its rejection is.
  for (const v1::SubmittedEvent& e : p.Processed()) EXPECT_NE(e.source_computer(), "zulu");
  ASSERT_TRUE(by_id.count("rejected:" + zulu));
  const v1::SubmittedEvent& rejected = by_id["rejected:" + zulu];
  EXPECT_EQ(rejected.origin(), v1::ORIGIN_LOCAL);
  EXPECT_EQ(rejected.envelope().event(), "mesh.event.rejected");
  // zulu has no pinned key and is not accepted unsigned.
  EXPECT_EQ(json::GetMemberString(rejected.envelope().payload_json(), "reason"), "unauthenticated");
  EXPECT_EQ(json::GetMemberString(rejected.envelope().payload_json(), "source_computer"), "zulu");
  // Malformed messages are rejected and the stream kept flowing (alpha:c2 above).
  ASSERT_TRUE(by_id.count("rejected:" + bad));
  EXPECT_EQ(json::GetMemberString(by_id["rejected:" + bad].envelope().payload_json(), "reason"),
            "malformed");
  ASSERT_TRUE(by_id.count("rejected:" + no_source));

  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
  // The non-mesh message is still in the stream for the parts that read it.
  auto range = client_->Command({"XRANGE", "messages:beta", *other, *other});
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->elements().size(), 1u);

  v1::IngressStatusResponse status = Status();
  EXPECT_EQ(status.computer_name(), "beta");
  EXPECT_EQ(status.cluster(), "red");
  EXPECT_EQ(status.stream(), "messages:beta");
  EXPECT_EQ(status.group(), "mesh-ingress");
  EXPECT_EQ(status.trust_mode(), "cluster");
  EXPECT_EQ(status.received(), 6);
  EXPECT_EQ(status.accepted(), 3);
  EXPECT_EQ(status.non_mesh_ignored(), 1);
  EXPECT_EQ(status.malformed(), 2);
  EXPECT_EQ(status.rejected_by_reason().at("unauthenticated"), 1);
  EXPECT_EQ(status.rejected_by_reason().at("malformed"), 2);
  EXPECT_EQ(status.lag(), 0);
  EXPECT_FALSE(status.last_delivered_id().empty());

  grpc::ClientContext context;
  v1::ListQuarantinedResponse quarantined;
  ASSERT_TRUE(stub_->ListQuarantined(&context, v1::ListQuarantinedRequest(), &quarantined).ok());
  EXPECT_EQ(quarantined.events_size(), 0);
}

TEST_F(IngressBinaryTest, SigkillMidBatchThenRestartLosesNothingAndKeepsMessageIds) {
  StartIngress();
  testing::RecordingPipeline& p = pipeline_.pipeline();
  p.SetDelay(absl::Seconds(3));  // egress has the batch, ingress has not acknowledged yet
  AddManyAtOnce(50, "k");
  ASSERT_TRUE(WaitFor([&] { return p.Processed().size() == 50; }, absl::Seconds(10)));
  ingress_->Kill();
  ASSERT_TRUE(ingress_->Wait(absl::Seconds(5)).ok());
  EXPECT_EQ(Pending(), 50);
  p.SetDelay(absl::ZeroDuration());

  StartIngress();
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(10))) << ingress_->ReadLog();
  // Every entry was submitted again with the same message_id: egress saw
  // duplicates, processed each event once.
  EXPECT_EQ(p.duplicates(), 50);
  std::set<std::string> ids;
  for (const v1::SubmittedEvent& e : p.Processed()) ids.insert(e.message_id());
  EXPECT_EQ(ids.size(), 50u);
  EXPECT_EQ(p.Processed().size(), 50u);
}

TEST_F(IngressBinaryTest, PipelineDownForAWhileThenUpProcessesEverythingOnce) {
  StartIngress();
  pipeline_.Stop();
  for (int i = 0; i < 20; ++i) {
    AddMesh(Envelope("deployment.started", "alpha", "cluster"), "alpha", Cat("alpha:d", i));
    absl::SleepFor(absl::Milliseconds(25));
  }
  ASSERT_TRUE(WaitFor([&] { return Status().submit_retries() >= 3; }, absl::Seconds(10)));
  EXPECT_GT(Pending(), 0);
  pipeline_.Start();
  testing::RecordingPipeline& p = pipeline_.pipeline();
  ASSERT_TRUE(WaitFor([&] { return p.Processed().size() == 20; }, absl::Seconds(10)))
      << ingress_->ReadLog();
  EXPECT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
  EXPECT_EQ(p.duplicates(), 0);
}

TEST_F(IngressBinaryTest, TakenAddressIsAClearStartupError) {
  RecordingPipelineServer squatter;  // holds a port
  testing::ChildOptions options;
  options.args = {TM_INGRESS_BINARY,
                  "--computer_name=beta",
                  Cat("--redis_url=", redis_.url()),
                  Cat("--data_dir=", data_.path().string()),
                  Cat("--ingress_addr=", squatter.addr()),
                  Cat("--egress_addr=127.0.0.1:", testing::FreeLoopbackPort()),
                  Cat("--installer_addr=127.0.0.1:", testing::FreeLoopbackPort())};
  auto child = ChildProcess::Start(options);
  ASSERT_TRUE(child.ok());
  auto exit = (*child)->Wait(absl::Seconds(10));
  ASSERT_TRUE(exit.ok());
  EXPECT_EQ(exit->exit_code, 1);
  EXPECT_NE((*child)->ReadLog().find("address already in use"), std::string::npos)
      << (*child)->ReadLog();
  // It did not leave a heartbeat behind.
  auto hb = client_->Get("computer:beta:heartbeat");
  ASSERT_TRUE(hb.ok());
  EXPECT_FALSE(hb->has_value());
}

}  // namespace
}  // namespace teleclaude::mesh
