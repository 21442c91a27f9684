// The mesh consumer in process, against a real redis-server, real
// membership (MembershipWriter and its membership.db), a real SQLite
// quarantine and a real gRPC Pipeline server.
#include "services/ingress/mesh_consumer.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "common/base/strings.h"
#include "common/identity/identity_key.h"
#include "common/identity/pair_key_cache.h"
#include "common/json/json_text.h"
#include "common/mesh/heartbeat.h"
#include "common/mesh/membership_writer.h"
#include "common/mesh/mesh_message.h"
#include "gtest/gtest.h"
#include "services/ingress/message_authenticator.h"
#include "services/ingress/trust_chain.h"
#include "tests/support/recording_pipeline.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using testing::RecordingPipelineServer;
using testing::WaitFor;

std::string Envelope(const std::string& type, const std::string& source,
                     const std::string& visibility = "cluster", const std::string& domain = "ops") {
  return Cat(R"({"event":")", type, R"(","source":")", source, R"(","level":1,"domain":")", domain,
             R"(","visibility":")", visibility, R"(","payload":{"k":"v"}})");
}

class MeshConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override { client_ = redis_.Client(); }
  void TearDown() override {
    if (consumer_) consumer_->Stop();
    if (membership_) membership_->Stop();
  }

  // A signed heartbeat (only a signed heartbeat announces a cluster,
  // doc/security.md §6): membership pins the peer's key from it.
  void Heartbeat(const std::string& name, std::optional<std::string> cluster) {
    ASSERT_TRUE(
        client_
            ->SetEx(HeartbeatKey(name),
                    EncodeSignedHeartbeat({name,
                                           absl::FormatTime("%Y-%m-%dT%H:%M:%E6S+00:00",
                                                            absl::Now(), absl::UTCTimeZone()),
                                           cluster},
                                          *KeyOf(name)),
                    absl::Seconds(60))
            .ok());
  }
  const IdentityKey* KeyOf(const std::string& name) {
    if (name == "alpha") return alpha_key_.get();
    if (name == "bravo") return bravo_key_.get();
    ADD_FAILURE() << "no key for " << name;
    return alpha_key_.get();
  }

  // Starts the consumer of computer "beta" (cluster red); alpha (red) and
  // bravo (blue) are live peers.
  void StartConsumer(TrustStrictness strictness = TrustStrictness::kStandard) {
    Heartbeat("alpha", "red");
    Heartbeat("bravo", "blue");
    if (!membership_) {
      MembershipWriter::Options membership_options;
      membership_options.redis.endpoint = redis_.endpoint();
      membership_options.db_path = dir_.File("membership.db");
      membership_options.self_name = "beta";
      membership_options.self_cluster = "red";
      auto membership = MembershipWriter::Open(membership_options);
      ASSERT_TRUE(membership.ok()) << membership.status();
      membership_ = *std::move(membership);
      ASSERT_TRUE(membership_->RefreshNow().ok());
      auto opened = QuarantineStore::Open(dir_.File("ingress.db"));
      ASSERT_TRUE(opened.ok()) << opened.status();
      quarantine_ = *std::move(opened);
      client_for_pipeline_ = std::make_unique<PipelineClient>(
          pipeline_.addr(), absl::Seconds(5),
          ChannelOptions{.max_message_bytes = 64 << 20, .auth_token = ""});
    }
    trust_ = BuildTrustGate({TrustMode::kCluster, strictness, "red", {}}, membership_.get(),
                            /*refresh_on_miss=*/false);
    authenticator_ = std::make_unique<MessageAuthenticator>(
        MessageAuthenticator::Options{"beta", "messages:beta", {}}, membership_.get(), &pair_keys_);
    MeshConsumer::Options options;
    options.redis.endpoint = redis_.endpoint();
    options.computer_name = "beta";
    options.stream = "messages:beta";
    options.block = absl::Milliseconds(100);
    options.backoff_max = absl::Milliseconds(200);
    options.claim_min_idle = claim_min_idle_;
    options.claim_every = claim_every_;
    options.authenticator = authenticator_.get();
    consumer_ = std::make_unique<MeshConsumer>(options, trust_.get(), quarantine_.get(),
                                               client_for_pipeline_.get());
    consumer_->Start();
    ASSERT_TRUE(WaitFor([&] { return consumer_->ready(); }, absl::Seconds(5)));
  }

  std::string Add(const std::vector<std::pair<std::string, std::string>>& fields) {
    auto id = client_->XAdd("messages:beta", fields, 10000);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or("");
  }
  // A mesh message as its sender writes it: alpha and bravo have keys and
  // authenticate theirs (pair key with beta's key); others have none.
  std::string AddMesh(const std::string& payload, const std::string& source,
                      const std::string& message_id = "") {
    return Add(MeshFields(payload, source, message_id));
  }
  std::vector<std::pair<std::string, std::string>> MeshFields(const std::string& payload,
                                                              const std::string& source,
                                                              const std::string& message_id) {
    if (source != "alpha" && source != "bravo") {
      return EncodeMeshMessage(payload, source, message_id);
    }
    auto keys = DerivePairKeys(*KeyOf(source), source, "beta", beta_key_->public_key());
    EXPECT_TRUE(keys.ok()) << keys.status();
    return EncodeAuthenticatedMeshMessage(
        keys->send, "messages:beta", payload, source,
        message_id.empty() ? Cat(source, "/", ++sent_) : message_id,
        absl::ToUnixMillis(absl::Now()));
  }

  // n mesh events from alpha in one MULTI/EXEC, so one read sees them all.
  void AddManyAtOnce(int n) {
    std::vector<std::vector<std::string>> commands = {{"MULTI"}};
    for (int i = 0; i < n; ++i) {
      commands.push_back(RedisClient::XAddArgv(
          "messages:beta",
          MeshFields(Envelope("deployment.started", "alpha"), "alpha", Cat("alpha:", i)), 10000));
    }
    commands.push_back({"EXEC"});
    ASSERT_TRUE(client_->Pipeline(commands).ok());
  }

  // In one MULTI/EXEC: adds a mesh event from alpha and reads it as
  // consumer `consumer` of the group (pending for it until acknowledged).
  std::string AddPendingFor(const std::string& consumer, const std::string& message_id) {
    auto replies = client_->Pipeline(
        {{"MULTI"},
         RedisClient::XAddArgv(
             "messages:beta",
             MeshFields(Envelope("deployment.started", "alpha"), "alpha", message_id), 10000),
         {"XREADGROUP", "GROUP", "mesh-ingress", consumer, "COUNT", "1", "STREAMS", "messages:beta",
          ">"},
         {"EXEC"}});
    EXPECT_TRUE(replies.ok()) << replies.status();
    if (!replies.ok() || replies->size() != 4 || replies->back().elements().size() != 2) return "";
    return replies->back().elements()[0].str();
  }

  int64_t Pending() {
    auto info = client_->XInfoGroup("messages:beta", "mesh-ingress");
    return info.ok() ? info->pending : -1;
  }

  std::unique_ptr<IdentityKey> beta_key_ = IdentityKey::Generate();
  std::unique_ptr<IdentityKey> alpha_key_ = IdentityKey::Generate();
  std::unique_ptr<IdentityKey> bravo_key_ = IdentityKey::Generate();
  PairKeyCache pair_keys_{beta_key_.get(), "beta"};
  int sent_ = 0;
  testing::RedisServer redis_;
  testing::TempDir dir_;
  RecordingPipelineServer pipeline_;
  std::unique_ptr<RedisClient> client_;
  std::unique_ptr<MembershipWriter> membership_;
  std::unique_ptr<QuarantineStore> quarantine_;
  std::unique_ptr<PipelineClient> client_for_pipeline_;
  std::unique_ptr<TrustEvaluator> trust_;
  std::unique_ptr<MessageAuthenticator> authenticator_;
  std::unique_ptr<MeshConsumer> consumer_;
  absl::Duration claim_min_idle_ = absl::Seconds(60);
  absl::Duration claim_every_ = absl::Seconds(30);
};

TEST_F(MeshConsumerTest, TrustedEventsEnterUntrustedAreRejectedOthersAreLeftAlone) {
  StartConsumer();
  const std::string cluster_id =
      AddMesh(Envelope("deployment.started", "alpha"), "alpha", "alpha:m1");
  AddMesh(Envelope("deployment.finished", "alpha", "public"), "alpha");
  const std::string other_id = Add({{"type", "chat"}, {"text", "hello"}});
  const std::string zulu_id = AddMesh(Envelope("deployment.started", "zulu"), "zulu");
  const std::string bravo_id = AddMesh(Envelope("deployment.started", "bravo"), "bravo");
  const std::string bad_id = AddMesh("{not json", "alpha");
  AddMesh(Envelope("deployment.after", "alpha"), "alpha");  // the stream keeps flowing

  RecordingPipelineServer& p = pipeline_;
  ASSERT_TRUE(WaitFor([&] { return p.pipeline().Processed().size() == 6; }, absl::Seconds(10)))
      << p.pipeline().Processed().size();
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));

  std::vector<v1::SubmittedEvent> mesh;
  std::vector<v1::SubmittedEvent> rejected;
  for (const v1::SubmittedEvent& e : p.pipeline().Processed()) {
    (e.origin() == v1::ORIGIN_MESH ? mesh : rejected).push_back(e);
  }
  ASSERT_EQ(mesh.size(), 3u);
  EXPECT_EQ(mesh[0].message_id(), "alpha:m1");
  EXPECT_EQ(mesh[0].source_computer(), "alpha");
  EXPECT_EQ(mesh[0].envelope().event(), "deployment.started");
  EXPECT_EQ(json::GetMemberString(mesh[0].envelope().payload_json(), "_mesh_source"), "alpha");
  EXPECT_EQ(mesh[1].envelope().visibility(), v1::EVENT_VISIBILITY_PUBLIC);
  EXPECT_EQ(mesh[2].envelope().event(), "deployment.after");

  ASSERT_EQ(rejected.size(), 3u);
  EXPECT_EQ(rejected[0].message_id(), "rejected:" + zulu_id);
  EXPECT_EQ(rejected[0].envelope().event(), "mesh.event.rejected");
  EXPECT_EQ(rejected[0].envelope().level(), v1::EVENT_LEVEL_OPERATIONAL);
  EXPECT_EQ(rejected[0].envelope().visibility(), v1::EVENT_VISIBILITY_LOCAL);
  const std::string& payload = rejected[0].envelope().payload_json();
  EXPECT_EQ(json::GetMemberString(payload, "source_computer"), "zulu");
  EXPECT_EQ(json::GetMemberString(payload, "event_type"), "deployment.started");
  // zulu has no key and is not accepted unsigned: unauthenticated; bravo
  // (signed, pinned, another cluster): untrusted.
  EXPECT_EQ(json::GetMemberString(payload, "reason"), "unauthenticated");
  EXPECT_EQ(rejected[1].message_id(), "rejected:" + bravo_id);
  EXPECT_EQ(json::GetMemberString(rejected[1].envelope().payload_json(), "reason"), "untrusted");
  EXPECT_EQ(rejected[2].message_id(), "rejected:" + bad_id);
  EXPECT_EQ(json::GetMemberString(rejected[2].envelope().payload_json(), "reason"), "malformed");

  IngressCounters c = consumer_->Counters();
  EXPECT_EQ(c.received, 6);
  EXPECT_EQ(c.accepted, 3);
  EXPECT_EQ(c.flagged, 0);
  EXPECT_EQ(c.non_mesh_ignored, 1);
  EXPECT_EQ(c.malformed, 1);
  EXPECT_EQ(
      (std::map<std::string, int64_t>{{"malformed", 1}, {"unauthenticated", 1}, {"untrusted", 1}}),
      c.rejected_by_reason);
  // The other part's message is still in the stream (only acknowledged for our group).
  auto range = client_->Command({"XRANGE", "messages:beta", other_id, other_id});
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->elements().size(), 1u);
  (void)cluster_id;
}

TEST_F(MeshConsumerTest, ReadsManyEntriesPerBatchAndSubmitsEachBatchOnce) {
  StartConsumer();
  AddManyAtOnce(300);
  ASSERT_TRUE(
      WaitFor([&] { return pipeline_.pipeline().Processed().size() == 300; }, absl::Seconds(10)));
  EXPECT_EQ(pipeline_.pipeline().batch_sizes(), (std::vector<int>{256, 44}));
  EXPECT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
}

// The reader prepares the next batches while egress holds a Submit (at most
// max_prepared_batches queued, plus the one being prepared), and egress
// still sees the stream's order.
TEST_F(MeshConsumerTest, PreparesTheNextBatchesWhileASubmitIsInFlightAndKeepsTheOrder) {
  StartConsumer();
  pipeline_.pipeline().SetDelay(absl::Seconds(2));
  AddManyAtOnce(2000);
  // First Submit (256 events) in flight for 2 s: more batches are read,
  // decoded and queued meanwhile — a bounded number.
  ASSERT_TRUE(WaitFor([&] { return consumer_->Counters().received >= 768; }, absl::Seconds(1.5)))
      << consumer_->Counters().received;
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(pipeline_.pipeline().submit_calls(), 1);
  EXPECT_LE(consumer_->Counters().received, 4 * 256);
  pipeline_.pipeline().SetDelay(absl::ZeroDuration());
  ASSERT_TRUE(
      WaitFor([&] { return pipeline_.pipeline().Processed().size() == 2000; }, absl::Seconds(10)));
  std::vector<v1::SubmittedEvent> processed = pipeline_.pipeline().Processed();
  for (int i = 0; i < 2000; ++i) {
    ASSERT_EQ(processed[i].message_id(), Cat("alpha:", i)) << "at " << i;
  }
  EXPECT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
  EXPECT_EQ(pipeline_.pipeline().duplicates(), 0);
}

TEST_F(MeshConsumerTest, EgressDownMeansRetryWithoutAckThenEverythingOnce) {
  StartConsumer();
  pipeline_.Stop();
  AddManyAtOnce(5);
  ASSERT_TRUE(
      WaitFor([&] { return consumer_->Counters().submit_retries >= 3; }, absl::Seconds(10)));
  EXPECT_EQ(Pending(), 5);  // read, not acknowledged
  pipeline_.Start();
  ASSERT_TRUE(
      WaitFor([&] { return pipeline_.pipeline().Processed().size() == 5; }, absl::Seconds(10)));
  EXPECT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
  EXPECT_EQ(pipeline_.pipeline().duplicates(), 0);
}

TEST_F(MeshConsumerTest, StopHandsBackTheBatchAndTheNextStartFinishesIt) {
  StartConsumer();
  pipeline_.pipeline().SetFailing(true);
  AddManyAtOnce(3);
  ASSERT_TRUE(
      WaitFor([&] { return consumer_->Counters().submit_retries >= 1; }, absl::Seconds(10)));
  consumer_->Stop();
  EXPECT_EQ(Pending(), 3);
  pipeline_.pipeline().SetFailing(false);
  StartConsumer();  // reads its own pending entries first
  ASSERT_TRUE(
      WaitFor([&] { return pipeline_.pipeline().Processed().size() == 3; }, absl::Seconds(10)));
  EXPECT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
}

TEST_F(MeshConsumerTest, UnknownEnvelopeSourceIsFlaggedWhenStandard) {
  StartConsumer(TrustStrictness::kStandard);
  AddMesh(Envelope("deployment.started", "daemon"), "alpha");
  ASSERT_TRUE(
      WaitFor([&] { return pipeline_.pipeline().Processed().size() == 1; }, absl::Seconds(10)));
  const v1::SubmittedEvent e = pipeline_.pipeline().Processed()[0];
  EXPECT_EQ(e.origin(), v1::ORIGIN_MESH);
  EXPECT_EQ(json::GetMember(e.envelope().payload_json(), "_trust_flags"), R"(["unknown_source"])");
  EXPECT_EQ(consumer_->Counters().flagged, 1);
}

TEST_F(MeshConsumerTest, UnknownEnvelopeSourceIsQuarantinedWhenStrict) {
  StartConsumer(TrustStrictness::kStrict);
  const std::string id = AddMesh(Envelope("deployment.started", "daemon"), "alpha");
  ASSERT_TRUE(
      WaitFor([&] { return pipeline_.pipeline().Processed().size() == 1; }, absl::Seconds(10)));
  const v1::SubmittedEvent e = pipeline_.pipeline().Processed()[0];
  EXPECT_EQ(e.envelope().event(), "mesh.event.rejected");
  EXPECT_EQ(e.message_id(), "rejected:" + id);
  EXPECT_EQ(json::GetMemberString(e.envelope().payload_json(), "reason"), "quarantined");
  auto listed = quarantine_->List(0, 0);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].event_type(), "deployment.started");
  EXPECT_EQ((*listed)[0].source(), "daemon");
  EXPECT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
  EXPECT_EQ(consumer_->Counters().quarantined, 1);
}

TEST_F(MeshConsumerTest, OversizedEntriesAreRefusedUnparsedAndReflectionsRejected) {
  StartConsumer();
  AddMesh(std::string(2 << 20, 'x'), "alpha");
  AddMesh(Envelope("deployment.started", "beta"), "beta");
  ASSERT_TRUE(
      WaitFor([&] { return pipeline_.pipeline().Processed().size() == 2; }, absl::Seconds(10)));
  auto events = pipeline_.pipeline().Processed();
  EXPECT_EQ(json::GetMemberString(events[0].envelope().payload_json(), "reason"), "too_large");
  EXPECT_EQ(json::GetMemberString(events[1].envelope().payload_json(), "reason"), "reflection");
}

// Redis restarted without persistence: the stream and the group are gone;
// the consumer creates the group again (at 0: everything written since) and
// keeps consuming without a restart.
TEST_F(MeshConsumerTest, RedisRestartedEmptyRecreatesTheGroupAndKeepsConsuming) {
  StartConsumer();
  AddMesh(Envelope("deployment.started", "alpha"), "alpha", "alpha:before");
  ASSERT_TRUE(
      WaitFor([&] { return pipeline_.pipeline().Processed().size() == 1; }, absl::Seconds(10)));
  redis_.Kill();
  redis_.Restart();
  client_ = redis_.Client();  // a fresh connection, not one that first fails
  AddMesh(Envelope("deployment.started", "alpha"), "alpha", "alpha:after");
  ASSERT_TRUE(
      WaitFor([&] { return pipeline_.pipeline().Processed().size() == 2; }, absl::Seconds(10)));
  EXPECT_EQ(pipeline_.pipeline().Processed()[1].message_id(), "alpha:after");
  EXPECT_GE(consumer_->ReaderCounters().nogroup_recoveries, 1);
  EXPECT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
}

// Entries another consumer read and never acknowledged (it died) are
// claimed while the consumer runs, not only at its start.
TEST_F(MeshConsumerTest, IdleEntriesOfADeadConsumerAreClaimedWhileRunning) {
  claim_min_idle_ = absl::Milliseconds(300);
  claim_every_ = absl::Milliseconds(200);
  StartConsumer();
  ASSERT_FALSE(AddPendingFor("ghost", "alpha:ghost").empty());
  EXPECT_EQ(Pending(), 1);
  ASSERT_TRUE(
      WaitFor([&] { return pipeline_.pipeline().Processed().size() == 1; }, absl::Seconds(10)));
  EXPECT_EQ(pipeline_.pipeline().Processed()[0].message_id(), "alpha:ghost");
  EXPECT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
  EXPECT_EQ(consumer_->ReaderCounters().claimed, 1);
  EXPECT_EQ(pipeline_.pipeline().duplicates(), 0);
}

// Own pending entries deleted from the stream before the restart cannot have
// an effect: acknowledged, never handed to egress; the others are.
TEST_F(MeshConsumerTest, PendingEntriesTrimmedAwayAreAcknowledgedNotSubmitted) {
  StartConsumer();
  consumer_->Stop();
  const std::string first = AddPendingFor("beta", "alpha:1");
  const std::string second = AddPendingFor("beta", "alpha:2");
  const std::string third = AddPendingFor("beta", "alpha:3");
  ASSERT_EQ(Pending(), 3);
  ASSERT_TRUE(client_->Command({"XDEL", "messages:beta", first, third}).ok());
  StartConsumer();
  ASSERT_TRUE(
      WaitFor([&] { return pipeline_.pipeline().Processed().size() == 1; }, absl::Seconds(10)));
  EXPECT_EQ(pipeline_.pipeline().Processed()[0].message_id(), "alpha:2");
  EXPECT_TRUE(WaitFor([&] { return Pending() == 0; }, absl::Seconds(5)));
  EXPECT_EQ(consumer_->ReaderCounters().vanished, 2);
  (void)second;
}

}  // namespace
}  // namespace teleclaude::mesh
