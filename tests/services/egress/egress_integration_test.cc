// Integration tests of the real telec-egress binary: a real redis-server
// (tests/support), real SQLite files, gRPC on loopback, peers made of
// heartbeat keys written with the common/mesh codec and recorded in
// membership.db by a real MembershipWriter (what this computer's ingress
// runs), and a small real gRPC Installer server that records what it
// receives.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/base/strings.h"
#include "common/envelope/json_codec.h"
#include "common/envelope/stream_codec.h"
#include "common/grpc/channel.h"
#include "common/grpc/grpc_server.h"
#include "common/identity/identity_key.h"
#include "common/json/json_text.h"
#include "common/mesh/heartbeat.h"
#include "common/mesh/membership_writer.h"
#include "common/mesh/mesh_message.h"
#include "common/sqlite/database.h"
#include "gtest/gtest.h"
#include "teleclaude/mesh/v1/installer.grpc.pb.h"
#include "teleclaude/mesh/v1/pipeline.grpc.pb.h"
#include "tests/services/egress/storage/events_db_v1.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
#include "tests/support/local_auth.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using testing::ChildOptions;
using testing::ChildProcess;
using testing::FreeLoopbackPort;
using testing::RedisServer;
using testing::TempDir;
using testing::WaitFor;

// A real Installer service that records what egress sends.
class RecordingInstaller final : public v1::Installer::Service {
 public:
  grpc::Status OnNotification(grpc::ServerContext*, const v1::OnNotificationRequest* request,
                              v1::OnNotificationResponse*) override {
    absl::MutexLock lock(&mu_);
    for (const auto& p : request->pushes()) pushes_.push_back(p);
    return grpc::Status::OK;
  }
  grpc::Status RecordInvocations(grpc::ServerContext*, const v1::RecordInvocationsRequest* request,
                                 v1::RecordInvocationsResponse* response) override {
    absl::MutexLock lock(&mu_);
    if (!batches_.insert(request->batch_id()).second) {
      response->set_already_applied(true);
      return grpc::Status::OK;
    }
    for (const auto& c : request->counts()) counts_[c.cartridge_name()] += c.count();
    return grpc::Status::OK;
  }
  grpc::Status ListActive(grpc::ServerContext*, const v1::ListActiveRequest*,
                          v1::ListActiveResponse* response) override {
    v1::Cartridge* c = response->add_cartridges();
    c->set_name("wasm-thing");
    c->set_runtime("wasm");
    c->set_sha256("abc");
    c->set_source("(module)");
    return grpc::Status::OK;
  }
  grpc::Status ReportCartridgeFailure(grpc::ServerContext*,
                                      const v1::ReportCartridgeFailureRequest* request,
                                      v1::Cartridge*) override {
    absl::MutexLock lock(&mu_);
    failures_.push_back(*request);
    return grpc::Status::OK;
  }

  std::vector<v1::NotificationPush> pushes() {
    absl::MutexLock lock(&mu_);
    return pushes_;
  }
  int64_t count(const std::string& name) {
    absl::MutexLock lock(&mu_);
    return counts_[name];
  }
  std::vector<v1::ReportCartridgeFailureRequest> failures() {
    absl::MutexLock lock(&mu_);
    return failures_;
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::NotificationPush> pushes_;
  std::set<std::string> batches_;
  std::map<std::string, int64_t> counts_;
  std::vector<v1::ReportCartridgeFailureRequest> failures_;
};

class EgressIntegrationTest : public ::testing::Test {
 protected:
  explicit EgressIntegrationTest(RedisServer::Options redis_options = {})
      : redis_(redis_options), client_(redis_.Client()) {
    egress_port_ = FreeLoopbackPort();
    installer_port_ = FreeLoopbackPort();
  }

  void TearDown() override {
    if (HasFailure() && egress_ != nullptr) {
      std::string log = egress_->ReadLog();
      if (log.size() > 6000) log = log.substr(log.size() - 6000);
      std::cerr << "---- telec-egress log (tail) ----\n" << log << "\n";
    }
  }

  // membership.db as ingress keeps it: a real MembershipWriter reading the
  // heartbeats of the test's Redis (egress only reads the database).
  void StartMembership() {
    if (membership_ != nullptr) return;
    MembershipWriter::Options options;
    options.redis.endpoint = redis_.endpoint();
    options.db_path = (data_.path() / "membership.db").string();
    options.self_name = "alpha";
    options.self_cluster = "c1";
    options.refresh = absl::Milliseconds(100);
    options.policy.retention = retention_;
    auto writer = MembershipWriter::Open(std::move(options));
    ASSERT_TRUE(writer.ok()) << writer.status();
    membership_ = *std::move(writer);
    membership_->Start();
  }

  void StartEgress(std::vector<std::string> extra = {}) {
    StartMembership();
    ChildOptions options;
    options.args = {TELEC_EGRESS_PATH,
                    "--computer_name=alpha",
                    "--cluster=c1",
                    Cat("--redis_url=", redis_.url()),
                    Cat("--data_dir=", data_.path().string()),
                    Cat("--egress_addr=127.0.0.1:", egress_port_),
                    Cat("--installer_addr=127.0.0.1:", installer_port_),
                    "--peer_refresh_ms=100",
                    Cat("--peer_retention=", absl::FormatDuration(retention_))};
    for (auto& e : extra) options.args.push_back(e);
    auto child = ChildProcess::Start(options);
    ASSERT_TRUE(child.ok()) << child.status();
    egress_ = std::move(*child);
    absl::Time start = absl::Now();
    // Connect once it listens (a channel that failed to connect backs off).
    ASSERT_TRUE(
        WaitFor([&] { return egress_->ReadLog().find("listening on") != std::string::npos; },
                absl::Seconds(10), absl::Milliseconds(5)))
        << egress_->ReadLog();
    stub_ = v1::Pipeline::NewStub(
        testing::ServiceChannel(Cat("127.0.0.1:", egress_port_), data_.path()));
    ASSERT_TRUE(WaitFor([&] { return StatsOr().ok(); }, absl::Seconds(10))) << egress_->ReadLog();
    std::cerr << "telec-egress ready after " << absl::FormatDuration(absl::Now() - start) << "\n";
  }

  // {rows, distinct payloads} of system.sandbox-container.unhealthy
  // notifications in events.db ({-1, -1} when it cannot be read).
  std::pair<int64_t, int64_t> UnhealthyNotifications() {
    auto db = Database::Open(data_.File("events.db"));
    if (!db.ok()) return {-1, -1};
    auto count = (*db)->Prepare(
        "SELECT COUNT(*), COUNT(DISTINCT payload) FROM notifications WHERE event_type = "
        "'system.sandbox-container.unhealthy'");
    if (!count.ok()) return {-1, -1};
    auto row = count->Step();
    if (!row.ok() || !*row) return {-1, -1};
    return {count->ColumnInt64(0), count->ColumnInt64(1)};
  }

  absl::StatusOr<v1::StatsResponse> StatsOr() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    v1::StatsResponse response;
    grpc::Status s = stub_->Stats(&ctx, {}, &response);
    if (!s.ok()) return FromGrpcStatus(s, "Stats");
    return response;
  }

  void Heartbeat(const std::string& name, std::optional<std::string> cluster,
                 absl::Duration ttl = absl::Seconds(60)) {
    // Signed by the computer's key (one per name): only signed heartbeats
    // announce a cluster.
    mesh::Heartbeat h{
        name, absl::FormatTime("%Y-%m-%dT%H:%M:%E6S+00:00", absl::Now(), absl::UTCTimeZone()),
        cluster};
    std::unique_ptr<IdentityKey>& key = keys_[name];
    if (key == nullptr) key = IdentityKey::Generate();
    ASSERT_TRUE(client_->SetEx(HeartbeatKey(name), EncodeSignedHeartbeat(h, *key), ttl).ok());
  }
  std::map<std::string, std::unique_ptr<IdentityKey>> keys_;

  // The peers egress routes to (live or away), by name.
  bool PeersAre(const std::set<std::string>& expected) {
    grpc::ClientContext ctx;
    v1::ListPeersResponse response;
    if (!stub_->ListPeers(&ctx, {}, &response).ok()) return false;
    std::set<std::string> names;
    for (const auto& p : response.peers()) {
      if (p.destination()) names.insert(p.name());
    }
    return names == expected;
  }
  // The state egress reports for `name` ("" when it has no record).
  std::string PeerState(const std::string& name) {
    grpc::ClientContext ctx;
    v1::ListPeersResponse response;
    if (!stub_->ListPeers(&ctx, {}, &response).ok()) return "";
    for (const auto& p : response.peers()) {
      if (p.name() == name) return p.state();
    }
    return "";
  }

  v1::EventOutcome Emit(const std::string& type, const std::string& payload,
                        std::optional<v1::EventVisibility> visibility = std::nullopt) {
    grpc::ClientContext ctx;
    v1::EmitRequest request;
    request.set_event(type);
    request.set_payload_json(payload);
    if (visibility.has_value()) request.set_visibility(*visibility);
    v1::EmitResponse response;
    grpc::Status s = stub_->Emit(&ctx, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.outcome();
  }

  // Mesh messages on messages:{peer}.
  std::vector<MeshMessage> Messages(const std::string& peer) {
    auto reply = client_->Command({"XRANGE", MeshStreamKey(peer), "-", "+"});
    std::vector<MeshMessage> out;
    if (!reply.ok()) return out;
    for (const StreamEntry& e : RedisClient::ParseEntries(*reply)) {
      out.push_back(ParseMeshMessage(e.fields));
    }
    return out;
  }
  std::vector<std::string> Types(const std::string& peer) {
    std::vector<std::string> types;
    for (const MeshMessage& m : Messages(peer)) {
      auto e = DecodeEnvelopeJson(m.payload.value_or(""));
      types.push_back(e.ok() ? e->event : "<undecodable>");
    }
    return types;
  }

  TempDir data_;
  RedisServer redis_;
  std::unique_ptr<RedisClient> client_;
  absl::Duration retention_ = absl::Hours(24);  // --peer_retention
  std::unique_ptr<MembershipWriter> membership_;
  int egress_port_;
  int installer_port_;
  std::unique_ptr<ChildProcess> egress_;
  std::unique_ptr<v1::Pipeline::Stub> stub_;
};

TEST_F(EgressIntegrationTest, RoutesEventsByVisibilityAndNeverEchoes) {
  Heartbeat("alpha", "c1");  // our own: never a peer
  Heartbeat("beta", "c1");
  Heartbeat("gamma", "c2");
  Heartbeat("delta", std::nullopt);  // a Python peer: public only
  StartEgress();
  ASSERT_TRUE(WaitFor([&] { return PeersAre({"beta", "gamma", "delta"}); }, absl::Seconds(5)));

  Emit("test.local", "{}", v1::EVENT_VISIBILITY_LOCAL);
  Emit("test.cluster", "{}", v1::EVENT_VISIBILITY_CLUSTER);
  Emit("test.public", "{}", v1::EVENT_VISIBILITY_PUBLIC);
  // From the mesh (origin), and stamped by ingress: never forwarded again.
  {
    grpc::ClientContext ctx;
    v1::SubmitRequest request;
    auto* mesh = request.add_events();
    mesh->set_envelope_json(
        R"({"event":"test.from_mesh","source":"beta","level":1,"visibility":"public"})");
    mesh->set_origin(v1::ORIGIN_MESH);
    mesh->set_source_computer("beta");
    mesh->set_message_id("beta/m1");
    auto* stamped = request.add_events();
    stamped->set_envelope_json(
        R"({"event":"test.stamped","source":"beta","level":1,"visibility":"public","payload":{"_mesh_source":"beta"}})");
    v1::SubmitResponse response;
    ASSERT_TRUE(stub_->Submit(&ctx, request, &response).ok());
    ASSERT_EQ(response.outcomes_size(), 2);
    EXPECT_EQ(response.outcomes(0).status(), v1::OUTCOME_PROCESSED);
  }
  Emit("test.sentinel", "{}", v1::EVENT_VISIBILITY_PUBLIC);
  ASSERT_TRUE(WaitFor(
      [&] {
        return Types("beta").size() == 3 && Types("gamma").size() == 2 &&
               Types("delta").size() == 2;
      },
      absl::Seconds(5)));
  EXPECT_EQ(Types("beta"),
            (std::vector<std::string>{"test.cluster", "test.public", "test.sentinel"}));
  EXPECT_EQ(Types("gamma"), (std::vector<std::string>{"test.public", "test.sentinel"}));
  EXPECT_EQ(Types("delta"), (std::vector<std::string>{"test.public", "test.sentinel"}));
  EXPECT_TRUE(Messages("alpha").empty());
  // DESIGN §3.3 fields plus our message id.
  MeshMessage m = Messages("beta")[0];
  EXPECT_EQ(m.type, "mesh_event");
  EXPECT_EQ(m.source_computer, "alpha");
  ASSERT_TRUE(m.message_id.has_value());
  EXPECT_FALSE(m.message_id->empty());
}

// doc/membership.md: a peer whose heartbeat lapsed is away and still a
// destination for --peer_retention; then it is forgotten and gets nothing.
TEST_F(EgressIntegrationTest, ExpiredHeartbeatKeepsThePeerUntilRetentionEnds) {
  retention_ = absl::Seconds(3);
  Heartbeat("beta", "c1", absl::Seconds(1));
  Heartbeat("gamma", "c1");
  StartEgress();
  ASSERT_TRUE(WaitFor([&] { return PeersAre({"beta", "gamma"}); }, absl::Seconds(5)));
  ASSERT_TRUE(WaitFor([&] { return PeerState("beta") == "away"; }, absl::Seconds(5)));
  Emit("test.while_away", "{}", v1::EVENT_VISIBILITY_PUBLIC);
  ASSERT_TRUE(WaitFor([&] { return Types("gamma").size() == 1; }, absl::Seconds(5)));
  ASSERT_TRUE(WaitFor([&] { return Types("beta").size() == 1; }, absl::Seconds(5)));
  EXPECT_EQ(Types("beta"), (std::vector<std::string>{"test.while_away"}));

  ASSERT_TRUE(WaitFor([&] { return PeerState("beta") == "forgotten"; }, absl::Seconds(10)));
  ASSERT_TRUE(WaitFor([&] { return PeersAre({"gamma"}); }, absl::Seconds(5)));
  Emit("test.after_retention", "{}", v1::EVENT_VISIBILITY_PUBLIC);
  ASSERT_TRUE(WaitFor([&] { return Types("gamma").size() == 2; }, absl::Seconds(5)));
  EXPECT_EQ(Types("beta"), (std::vector<std::string>{"test.while_away"}));
}

TEST_F(EgressIntegrationTest, RpcContract) {
  StartEgress();
  // Submit: per-event outcomes; an invalid event names the field, the rest
  // is processed; the same message id twice has one effect.
  {
    grpc::ClientContext ctx;
    v1::SubmitRequest request;
    request.add_events()->set_envelope_json(R"({"event":"x","source":"a","level":9})");
    auto* ok = request.add_events();
    ok->set_envelope_json(R"({"event":"mesh.event.rejected","source":"a","level":1})");
    ok->set_message_id("m-1");
    auto* again = request.add_events();
    again->CopyFrom(*ok);
    v1::SubmitResponse response;
    ASSERT_TRUE(stub_->Submit(&ctx, request, &response).ok());
    EXPECT_EQ(response.outcomes(0).status(), v1::OUTCOME_INVALID);
    EXPECT_EQ(response.outcomes(0).error().rfind("envelope_json: level:", 0), 0u)
        << response.outcomes(0).error();
    EXPECT_EQ(response.outcomes(1).status(), v1::OUTCOME_PROCESSED);
    EXPECT_GT(response.outcomes(1).notification_id(), 0);
    EXPECT_EQ(response.outcomes(2).status(), v1::OUTCOME_DUPLICATE);
    // Outcomes carry the envelope as it left the chain...
    EXPECT_EQ(response.outcomes(1).envelope().event(), "mesh.event.rejected");
    EXPECT_EQ(response.outcomes(2).envelope().event(), "mesh.event.rejected");
  }
  {
    // ... unless the caller asks for statuses only (ingress does).
    grpc::ClientContext ctx;
    v1::SubmitRequest request;
    request.set_omit_envelopes(true);
    auto* e = request.add_events();
    e->set_envelope_json(R"({"event":"test.statuses.only","source":"a","level":1})");
    e->set_message_id("m-2");
    v1::SubmitResponse response;
    ASSERT_TRUE(stub_->Submit(&ctx, request, &response).ok());
    EXPECT_EQ(response.outcomes(0).status(), v1::OUTCOME_PROCESSED);
    EXPECT_FALSE(response.outcomes(0).has_envelope());
  }
  // Emit: catalog defaults; bad payload names payload_json.
  v1::EventOutcome restarted = Emit("system.daemon.restarted", R"({"computer":"alpha","pid":7})");
  EXPECT_EQ(restarted.envelope().visibility(), v1::EVENT_VISIBILITY_CLUSTER);
  EXPECT_EQ(restarted.envelope().domain(), "system");
  EXPECT_EQ(restarted.envelope().idempotency_key(), "system.daemon.restarted:alpha:7");
  {
    grpc::ClientContext ctx;
    v1::EmitRequest request;
    request.set_event("x.y");
    request.set_payload_json("{\"a\": ");
    v1::EmitResponse response;
    grpc::Status s = stub_->Emit(&ctx, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message().rfind("payload_json:", 0), 0u) << s.error_message();
  }
  // Notifications: get, mark seen, list, not found.
  {
    grpc::ClientContext ctx;
    v1::MarkSeenRequest request;
    request.set_id(restarted.notification_id());
    v1::Notification n;
    ASSERT_TRUE(stub_->MarkSeen(&ctx, request, &n).ok());
    EXPECT_EQ(n.human_status(), v1::HUMAN_STATUS_SEEN);
    EXPECT_EQ(n.payload_json(), R"({"computer":"alpha","pid":7})");
  }
  {
    grpc::ClientContext ctx;
    v1::ListNotificationsRequest request;
    request.set_human_status(v1::HUMAN_STATUS_UNSEEN);
    v1::ListNotificationsResponse response;
    ASSERT_TRUE(stub_->ListNotifications(&ctx, request, &response).ok());
    ASSERT_EQ(response.notifications_size(), 1);
    EXPECT_EQ(response.notifications(0).event_type(), "mesh.event.rejected");
  }
  {
    grpc::ClientContext ctx;
    v1::GetNotificationRequest request;
    request.set_id(424242);
    v1::Notification n;
    grpc::Status s = stub_->GetNotification(&ctx, request, &n);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_NE(s.error_message().find("424242"), std::string::npos);
  }
  // WatchEvents with include_meta: processed events and cartridge.invoked.
  // The subscription registers when the server starts the call, which the
  // client cannot observe, so events are emitted from a second thread until
  // the reader has seen both kinds; the deadline ends a stream that never
  // delivers (a failure, not a hang).
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::WatchEventsRequest request;
    request.set_include_meta(true);
    auto reader = stub_->WatchEvents(&ctx, request);
    std::atomic<bool> done{false};
    std::thread emitter([&] {
      while (!done.load()) {
        Emit("test.watch", "{}");
        absl::SleepFor(absl::Milliseconds(100));
      }
    });
    std::set<std::string> seen;
    v1::WatchedEvent e;
    while ((seen.count("test.watch") == 0 || seen.count("cartridge.invoked") == 0) &&
           reader->Read(&e)) {
      seen.insert(e.envelope().event());
    }
    done = true;
    emitter.join();
    ctx.TryCancel();
    EXPECT_EQ(seen.count("test.watch"), 1u);
    EXPECT_EQ(seen.count("cartridge.invoked"), 1u);
  }
  // SIGTERM: clean exit 0.
  egress_->Terminate();
  auto exit = egress_->Wait(absl::Seconds(10));
  ASSERT_TRUE(exit.ok());
  EXPECT_TRUE(exit->exited());
  EXPECT_EQ(exit->exit_code, 0);
}

TEST_F(EgressIntegrationTest, InstallerDownThenUpGetsPushesAndInvocations) {
  StartEgress();
  v1::EventOutcome pending = Emit("cartridge.install_pending", R"({"name":"n","sha256":"s"})");
  ASSERT_GT(pending.notification_id(), 0);
  Emit("test.a", "{}");
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = StatsOr();
        return s.ok() && s->pushes_unsent() == 1 && s->invocations_unsent() >= 6;
      },
      absl::Seconds(5)));
  // The installer comes up on its address: everything is delivered.
  RecordingInstaller installer;
  auto server = GrpcServer::Start(Cat("127.0.0.1:", installer_port_), {&installer});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(WaitFor([&] { return installer.pushes().size() == 1; }, absl::Seconds(15)));
  v1::NotificationPush push = installer.pushes()[0];
  EXPECT_EQ(push.event_type(), "cartridge.install_pending");
  EXPECT_EQ(push.notification_id(), pending.notification_id());
  EXPECT_TRUE(push.was_created());
  EXPECT_FALSE(push.push_id().empty());
  EXPECT_EQ(push.envelope().event(), "cartridge.install_pending");
  ASSERT_TRUE(WaitFor([&] { return installer.count("dedup") == 2; }, absl::Seconds(15)));
  EXPECT_EQ(installer.count("notification-projector"), 2);
  EXPECT_EQ(installer.count("mesh-publisher"), 2);
  EXPECT_EQ(installer.count("cartridge.invoked"), 0);
  // Resolving a cartridge.* notification pushes the decision.
  {
    grpc::ClientContext ctx;
    v1::ResolveNotificationRequest request;
    request.set_id(pending.notification_id());
    request.set_resolution_json(R"({"decision":"approve"})");
    v1::Notification n;
    ASSERT_TRUE(stub_->ResolveNotification(&ctx, request, &n).ok());
    EXPECT_EQ(n.agent_status(), v1::AGENT_STATUS_RESOLVED);
  }
  ASSERT_TRUE(WaitFor([&] { return installer.pushes().size() == 2; }, absl::Seconds(5)));
  EXPECT_TRUE(installer.pushes()[1].resolved());
  EXPECT_EQ(installer.pushes()[1].resolution_json(), R"({"decision":"approve"})");
  // A cartridge of an unknown runtime is reported, not loaded.
  {
    grpc::ClientContext ctx;
    v1::ReloadCartridgesResponse response;
    ASSERT_TRUE(stub_->ReloadCartridges(&ctx, {}, &response).ok());
    EXPECT_EQ(response.active_size(), 0);
    ASSERT_EQ(response.failed().count("wasm-thing"), 1u);
    EXPECT_NE(response.failed().at("wasm-thing").find("not supported"), std::string::npos);
  }
  ASSERT_TRUE(WaitFor([&] { return !installer.failures().empty(); }, absl::Seconds(5)));
  EXPECT_EQ(installer.failures()[0].name(), "wasm-thing");
  EXPECT_FALSE(installer.failures()[0].suspended());
  (*server)->Shutdown(absl::Seconds(1));
}

class PersistentRedisTest : public EgressIntegrationTest {
 protected:
  PersistentRedisTest() : EgressIntegrationTest(RedisServer::Options{true, {}}) {}
};

TEST_F(PersistentRedisTest, RedisRestartDuringForwardingLosesNoMeshMessage) {
  Heartbeat("beta", std::nullopt);
  StartEgress();
  ASSERT_TRUE(WaitFor([&] { return PeersAre({"beta"}); }, absl::Seconds(5)));
  redis_.Stop();
  // Local processing goes on while Redis is down; forwards wait in the outbox.
  for (int i = 0; i < 50; ++i) {
    v1::EventOutcome o = Emit("test.public", Cat("{\"n\":", i, "}"), v1::EVENT_VISIBILITY_PUBLIC);
    EXPECT_EQ(o.status(), v1::OUTCOME_PROCESSED);
  }
  auto stats = StatsOr();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->outbox_depth(), 50);
  redis_.Restart();
  ASSERT_TRUE(WaitFor([&] { return Messages("beta").size() >= 50; }, absl::Seconds(20)));
  std::set<std::string> payloads;
  for (const MeshMessage& m : Messages("beta")) {
    payloads.insert(json::GetMember(*m.payload, "payload").value_or(""));
  }
  EXPECT_EQ(payloads.size(), 50u);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = StatsOr();
        return s.ok() && s->outbox_depth() == 0;
      },
      absl::Seconds(5)));
}

TEST_F(EgressIntegrationTest, SigkillMidBatchThenRestartHasExactlyOneEffectPerEvent) {
  constexpr int kEvents = 10000;
  Heartbeat("beta", std::nullopt);
  StartEgress({"--stream_maxlen=1000000"});
  ASSERT_TRUE(WaitFor([&] { return PeersAre({"beta"}); }, absl::Seconds(5)));
  // A 10,000-event batch arrives on the local stream.
  const std::string stream = "teleclaude:events:alpha";
  absl::Time produced = absl::Now();
  for (int start = 0; start < kEvents; start += 1000) {
    std::vector<std::vector<std::string>> commands;
    for (int i = start; i < start + 1000; ++i) {
      EventEnvelope e;
      // Creates a notification; no idempotency key, not aggregated.
      e.event = "system.sandbox-container.unhealthy";
      e.source = "producer";
      e.level = Level::kOperational;
      e.visibility = Visibility::kPublic;
      e.payload_json = Cat("{\"n\":", i, "}");
      commands.push_back(RedisClient::XAddArgv(stream, EncodeEnvelopeStream(e), 0));
    }
    ASSERT_TRUE(client_->Pipeline(commands).ok());
  }
  int64_t before_kill = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = StatsOr();
        before_kill = s.ok() ? s->inputs_processed() : 0;
        return before_kill >= 1000;
      },
      absl::Seconds(20), absl::Milliseconds(1)));
  egress_->Kill();
  double first_seconds = absl::ToDoubleSeconds(absl::Now() - produced);
  ASSERT_TRUE(egress_->Wait(absl::Seconds(5)).ok());
  std::cerr << "SIGKILL after " << before_kill << " of " << kEvents << " events ("
            << before_kill / first_seconds << " events/s incl. producing)\n";
  EXPECT_LT(before_kill, kEvents) << "the kill came after the whole batch";
  absl::Time restart = absl::Now();
  StartEgress({"--stream_maxlen=1000000"});
  auto group_done = [&] {
    auto info = client_->XInfoGroup(stream, "egress");
    return info.ok() && info->pending == 0 && info->lag.value_or(0) == 0;
  };
  ASSERT_TRUE(WaitFor(group_done, absl::Seconds(30), absl::Milliseconds(2)));
  double seconds = absl::ToDoubleSeconds(absl::Now() - restart);
  std::cerr << "after restart (incl. start-up): the remaining " << kEvents - before_kill
            << " events in " << seconds << " s (" << (kEvents - before_kill) / seconds
            << " events/s)\n";
  // events.db is checkpointed by the worker (no SQLite auto-checkpoint):
  // thousands of WAL pages later, it has run at least one.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = StatsOr();
        return s.ok() && s->wal_checkpoints() > 0;
      },
      absl::Seconds(5)));
  ASSERT_TRUE(WaitFor([&] { return Messages("beta").size() >= kEvents; }, absl::Seconds(30)));

  // Exactly one notification per event.
  EXPECT_EQ(UnhealthyNotifications(), (std::pair<int64_t, int64_t>(kEvents, kEvents)));
  // Each event forwarded at least once, always with the same message id.
  std::map<std::string, std::set<std::string>> ids_by_payload;
  for (const MeshMessage& m : Messages("beta")) {
    ids_by_payload[json::GetMember(*m.payload, "payload").value_or("")].insert(
        m.message_id.value_or(""));
  }
  EXPECT_EQ(ids_by_payload.size(), static_cast<size_t>(kEvents));
  size_t multi = 0;
  for (const auto& [payload, ids] : ids_by_payload) multi += ids.size() != 1;
  EXPECT_EQ(multi, 0u);
  std::cerr << "messages on messages:beta: " << Messages("beta").size() << " for " << kEvents
            << " events (re-sends after the kill carry the same id)\n";
}

// Inputs that had their effect before a SIGKILL and come again afterwards —
// a retried Submit with the same message id, and local stream entries Redis
// hands out a second time (the group's position set back to 0, as when
// Redis restarts from an older snapshot) — are recognised by the input keys
// in events.db's seen_ids: no second notification, only duplicates counted.
TEST_F(EgressIntegrationTest, RedeliveredInputsAfterSigkillHaveNoSecondEffect) {
  constexpr int kEvents = 20;
  StartEgress();
  const std::string stream = "teleclaude:events:alpha";
  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < kEvents; ++i) {
    EventEnvelope e;
    e.event = "system.sandbox-container.unhealthy";  // a notification each
    e.source = "producer";
    e.level = Level::kOperational;
    e.visibility = Visibility::kLocal;
    e.payload_json = Cat("{\"n\":", i, "}");
    commands.push_back(RedisClient::XAddArgv(stream, EncodeEnvelopeStream(e), 0));
  }
  auto added = client_->Pipeline(commands);
  ASSERT_TRUE(added.ok()) << added.status();
  const std::string last_id = added->back().str();
  // Every entry delivered to the group (up to last_id) and acknowledged.
  auto group_done = [&] {
    auto info = client_->XInfoGroup(stream, "egress");
    return info.ok() && info->pending == 0 && info->last_delivered_id == last_id;
  };
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = StatsOr();
        return s.ok() && s->inputs_processed() == kEvents;
      },
      absl::Seconds(10)));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto info = client_->XInfoGroup(stream, "egress");
        return info.ok() && info->pending == 0;
      },
      absl::Seconds(10)));
  auto submit = [&](v1::SubmitResponse* response) {
    grpc::ClientContext ctx;
    v1::SubmitRequest request;
    auto* e = request.add_events();
    e->set_envelope_json(R"({"event":"system.sandbox-container.unhealthy","source":"a","level":2,)"
                         R"("payload":{"n":"submitted"}})");
    e->set_message_id("m-once");
    return stub_->Submit(&ctx, request, response);
  };
  v1::SubmitResponse first;
  ASSERT_TRUE(submit(&first).ok());
  ASSERT_EQ(first.outcomes(0).status(), v1::OUTCOME_PROCESSED);

  egress_->Kill();
  ASSERT_TRUE(egress_->Wait(absl::Seconds(5)).ok());
  auto setid = client_->Command({"XGROUP", "SETID", stream, "egress", "0"});
  ASSERT_TRUE(setid.ok()) << setid.status();
  StartEgress();
  v1::SubmitResponse again;
  ASSERT_TRUE(submit(&again).ok());
  EXPECT_EQ(again.outcomes(0).status(), v1::OUTCOME_DUPLICATE);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = StatsOr();
        return s.ok() && s->inputs_duplicate() >= kEvents + 1;
      },
      absl::Seconds(10)));
  ASSERT_TRUE(WaitFor(group_done, absl::Seconds(10)));
  auto s = StatsOr();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->inputs_duplicate(), kEvents + 1);
  EXPECT_EQ(s->inputs_processed(), 0);

  EXPECT_EQ(UnhealthyNotifications(), (std::pair<int64_t, int64_t>(kEvents + 1, kEvents + 1)));
  auto db = Database::Open(data_.File("events.db"));
  ASSERT_TRUE(db.ok());
  auto keys = (*db)->Prepare(
      "SELECT COUNT(*) FROM seen_ids WHERE id LIKE 'local:teleclaude:events:alpha:%' OR "
      "id = 'submit:m-once'");
  ASSERT_TRUE(keys.ok());
  ASSERT_TRUE(*keys->Step());
  EXPECT_EQ(keys->ColumnInt64(0), kEvents + 1);
}

// events.db written by release 1 holds undelivered mesh rows (one per event
// and peer): the upgraded egress delivers every one, in order, with the
// message id release 1 gave it.
TEST_F(EgressIntegrationTest, MeshRowsOfAVersion1DatabaseAreDeliveredAfterTheUpgrade) {
  {
    auto v1 = Database::Open(data_.File("events.db"));
    ASSERT_TRUE(v1.ok()) << v1.status();
    ASSERT_TRUE((*v1)->Exec(testing::kEventsDbV1Schema).ok());
    auto insert = (*v1)->Prepare(
        "INSERT INTO outbox (kind, destination, message_id, body, created_at) "
        "VALUES ('mesh', ?, ?, ?, 't')");
    ASSERT_TRUE(insert.ok());
    for (int i = 0; i < 3; ++i) {
      EventEnvelope e;
      e.event = "test.public";
      e.source = "alpha";
      e.level = Level::kWorkflow;
      e.visibility = Visibility::kPublic;
      e.payload_json = Cat("{\"n\":", i, "}");
      for (const std::string peer : {"beta", "gamma"}) {
        insert->Bind(1, peer)
            .Bind(2, Cat("alpha/local:teleclaude:events:alpha:", i, "-0/", peer))
            .Bind(3, EncodeEnvelopeJson(e));
        ASSERT_TRUE(insert->Run().ok());
      }
    }
  }
  StartEgress();
  ASSERT_TRUE(WaitFor([&] { return Messages("beta").size() >= 3 && Messages("gamma").size() >= 3; },
                      absl::Seconds(10)));
  for (const std::string peer : {"beta", "gamma"}) {
    std::vector<std::string> got;
    for (const MeshMessage& m : Messages(peer)) {
      got.push_back(Cat(m.message_id.value_or("?"), " ",
                        json::GetMember(*m.payload, "payload").value_or("?")));
    }
    EXPECT_EQ(got, (std::vector<std::string>{
                       Cat("alpha/local:teleclaude:events:alpha:0-0/", peer, " {\"n\":0}"),
                       Cat("alpha/local:teleclaude:events:alpha:1-0/", peer, " {\"n\":1}"),
                       Cat("alpha/local:teleclaude:events:alpha:2-0/", peer, " {\"n\":2}")}));
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = StatsOr();
        return s.ok() && s->outbox_depth() == 0;
      },
      absl::Seconds(5)));
}

// A peer's inbox is trimmed at about --stream_maxlen entries. When the peer
// runs our ingress (a `mesh-ingress` group), egress never sends more than the
// group has room for, so a slow receiver loses nothing to trimming: every
// event arrives, once, in order, as the receiver catches up.
TEST_F(EgressIntegrationTest, FlowControlNeverLetsAPeerInboxTrimUnreadMessages) {
  Heartbeat("beta", "c1");
  ASSERT_TRUE(client_->XGroupCreate(MeshStreamKey("beta"), "mesh-ingress", "$", true).ok());
  StartEgress({"--stream_maxlen=100"});
  ASSERT_TRUE(WaitFor([&] { return PeersAre({"beta"}); }, absl::Seconds(5)));
  constexpr int kEvents = 350;
  {
    grpc::ClientContext ctx;
    v1::SubmitRequest request;
    for (int i = 0; i < kEvents; ++i) {
      auto* e = request.add_events();
      e->set_envelope_json(Cat(R"({"event":"test.flow","source":"alpha","level":1,)",
                               R"("visibility":"public","payload":{"n":)", i, "}}"));
      e->set_message_id(Cat("flow-", i));
    }
    v1::SubmitResponse response;
    ASSERT_TRUE(stub_->Submit(&ctx, request, &response).ok());
  }
  // Nobody reads yet: egress fills the inbox up to its room and holds the rest.
  auto unread = [&] {
    auto info = client_->XInfoGroup(MeshStreamKey("beta"), "mesh-ingress");
    return info.ok() && info->lag.has_value() ? *info->lag + info->pending : -1;
  };
  ASSERT_TRUE(WaitFor([&] { return unread() >= 90; }, absl::Seconds(10))) << unread();
  absl::SleepFor(absl::Milliseconds(500));  // give an over-eager sender time to overrun
  EXPECT_LE(unread(), 100);
  // A slow reader now drains it; every event must arrive exactly once.
  std::vector<int> seen;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto entries = client_->XReadGroup("mesh-ingress", "beta", MeshStreamKey("beta"), ">", 30,
                                           std::nullopt);
        if (!entries.ok()) return false;
        std::vector<std::string> ids;
        for (const StreamEntry& entry : *entries) {
          ids.push_back(entry.id);
          MeshMessage m = ParseMeshMessage(entry.fields);
          auto env = DecodeEnvelopeJson(m.payload.value_or(""));
          if (!env.ok()) continue;
          std::optional<std::string> n = json::GetMember(env->payload_json, "n");
          if (n.has_value()) seen.push_back(std::stoi(*n));
        }
        if (!ids.empty()) {
          EXPECT_TRUE(client_->XAck(MeshStreamKey("beta"), "mesh-ingress", ids).ok());
        }
        return seen.size() >= static_cast<size_t>(kEvents);
      },
      absl::Seconds(30), absl::Milliseconds(10)))
      << "received " << seen.size() << " of " << kEvents;
  ASSERT_EQ(seen.size(), static_cast<size_t>(kEvents));
  for (int i = 0; i < kEvents; ++i) EXPECT_EQ(seen[i], i) << "lost or reordered at " << i;
}

}  // namespace
}  // namespace teleclaude::mesh
