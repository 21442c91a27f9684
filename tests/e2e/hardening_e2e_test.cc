// Issue 18 against one real computer (redis-server, telec-installer,
// telec-egress, telec-ingress, telec), attacked from a local process as the
// issue's "Why" did: unauthenticated and wrongly authenticated calls, a
// payload nested 200,000 deep, cartridges named
// like system ones. Meanwhile telec and the services keep working.
#include <grpcpp/client_context.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/grpc/channel.h"
#include "common/identity/local_tokens.h"
#include "common/json/quote.h"
#include "common/redis/redis_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "teleclaude/mesh/v1/ingress.grpc.pb.h"
#include "teleclaude/mesh/v1/installer.grpc.pb.h"
#include "teleclaude/mesh/v1/pipeline.grpc.pb.h"
#include "tests/common/grpc/grpc_probe.h"
#include "tests/e2e/e2e_computer.h"
#include "tests/support/local_auth.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh::e2e {
namespace {

using ::teleclaude::mesh::testing::RedisServer;
using ::teleclaude::mesh::testing::WaitFor;
using ::testing::HasSubstr;

std::string PublishedPayload(const std::string& name) {
  return absl::StrCat("{\"name\":", json::Quote(name),
                      ",\"event_type\":\"demo.ping\",\"version\":\"1.0.0\",\"author\":\"alice\","
                      "\"code\":",
                      json::Quote(absl::Base64Escape("function process(e) return e end")),
                      ",\"entry_point\":\"process\",\"dependencies\":[],\"description\":\"t\","
                      "\"runtime\":\"lua\"}");
}

v1::NotificationPush PublishedPush(const std::string& push_id, const std::string& payload,
                                   const std::string& source = "mallory") {
  v1::NotificationPush p;
  p.set_push_id(push_id);
  p.set_notification_id(424242);
  p.set_event_type("cartridge.published");
  p.set_was_created(true);
  p.mutable_envelope()->set_event("cartridge.published");
  p.mutable_envelope()->set_source(source);
  p.mutable_envelope()->set_level(v1::EVENT_LEVEL_WORKFLOW);
  p.mutable_envelope()->set_payload_json(payload);
  return p;
}

std::string Output(const testing::CommandResult& r) { return r.out + r.err; }

std::unique_ptr<grpc::ClientContext> Context() {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  return c;
}

class HardeningE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    redis_ = new RedisServer();
    ComputerOptions o;
    o.name = "laptop";
    o.redis_url = redis_->url();
    o.extra_flags = {"--peer_refresh_ms=100"};
    computer_ = new Computer(std::move(o));
    absl::Status st = computer_->Launch();
    if (st.ok()) st = computer_->AwaitReady(absl::Seconds(60));
    if (!st.ok()) setup_error_ = new std::string(st.message());
  }
  static void TearDownTestSuite() {
    delete computer_;
    delete redis_;
    delete setup_error_;
  }
  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  // Stubs as an unauthenticated local process, as the owner, as a service.
  enum class As { kNobody, kOwner, kService };
  static std::shared_ptr<grpc::Channel> Channel(Service service, As as) {
    const std::string addr = computer_->Addr(service);
    switch (as) {
      case As::kNobody:
        return MakeChannel(addr);
      case As::kOwner:
        return testing::OwnerChannel(addr, computer_->data_dir());
      case As::kService:
        break;
    }
    return testing::ServiceChannel(addr, computer_->data_dir());
  }
  static std::unique_ptr<v1::Installer::Stub> Installer(As as) {
    return v1::Installer::NewStub(Channel(Service::kInstaller, as));
  }
  static std::unique_ptr<v1::Pipeline::Stub> Pipeline(As as) {
    return v1::Pipeline::NewStub(Channel(Service::kEgress, as));
  }

  static grpc::Status Activate(As as) {
    v1::ActivateRequest r;
    r.set_name("gated");
    r.set_decided_by("human");
    v1::Cartridge out;
    return Installer(as)->Activate(Context().get(), r, &out);
  }
  static grpc::Status OnNotification(As as, const std::string& payload) {
    v1::OnNotificationRequest r;
    *r.add_pushes() = PublishedPush("forged-1", payload);
    v1::OnNotificationResponse out;
    return Installer(as)->OnNotification(Context().get(), r, &out);
  }
  static grpc::Status SubmitFromGhost(As as) {
    v1::SubmitRequest r;
    v1::SubmittedEvent* e = r.add_events();
    e->set_envelope_json(
        R"({"event":"system.worker.crashed","source":"ghost","level":1,"visibility":"local",)"
        R"("payload":{"worker_name":"w","timestamp":"t"}})");
    e->set_origin(v1::ORIGIN_MESH);
    e->set_source_computer("ghost");
    v1::SubmitResponse out;
    return Pipeline(as)->Submit(Context().get(), r, &out);
  }
  static grpc::Status ReportFailure(As as) {
    v1::ReportCartridgeFailureRequest r;
    r.set_name("anyone");
    r.set_suspended(true);
    r.set_reason("mallory says so");
    v1::Cartridge out;
    return Installer(as)->ReportCartridgeFailure(Context().get(), r, &out);
  }
  static grpc::Status RecordMax(As as, const std::string& batch) {
    v1::RecordInvocationsRequest r;
    r.set_batch_id(batch);
    v1::InvocationCount* c = r.add_counts();
    c->set_cartridge_name("dedup");
    c->set_count(std::numeric_limits<int64_t>::max());
    v1::RecordInvocationsResponse out;
    return Installer(as)->RecordInvocations(Context().get(), r, &out);
  }

  static void ExpectTelecWorks(const std::string& tag) {
    auto status = computer_->Telec({"status"});
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_EQ(status->exit_code, 0) << tag << ": " << Output(*status);
    auto emit =
        computer_->Telec({"events", "emit", "system.worker.crashed", "--payload",
                          absl::StrCat(R"({"worker_name":")", tag, R"(","timestamp":"t"})")});
    ASSERT_TRUE(emit.ok()) << emit.status();
    EXPECT_EQ(emit->exit_code, 0) << tag << ": " << Output(*emit);
  }

  static RedisServer* redis_;
  static Computer* computer_;
  static std::string* setup_error_;
};

RedisServer* HardeningE2ETest::redis_ = nullptr;
Computer* HardeningE2ETest::computer_ = nullptr;
std::string* HardeningE2ETest::setup_error_ = nullptr;

TEST_F(HardeningE2ETest, EveryCallOfTheIssueIsRefusedWithoutTheRightIdentity) {
  const std::string valid = PublishedPayload("forged");
  // Any local process, no token: UNAUTHENTICATED, whatever the call.
  for (const grpc::Status& s :
       {Activate(As::kNobody), OnNotification(As::kNobody, valid), SubmitFromGhost(As::kNobody),
        ReportFailure(As::kNobody), RecordMax(As::kNobody, "nobody")}) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  }
  // The owner's token: service-to-service calls are PERMISSION_DENIED.
  for (const grpc::Status& s : {OnNotification(As::kOwner, valid), SubmitFromGhost(As::kOwner),
                                ReportFailure(As::kOwner), RecordMax(As::kOwner, "owner")}) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  }
  // The owner may decide (NOT_FOUND: there is no cartridge "gated").
  EXPECT_EQ(Activate(As::kOwner).error_code(), grpc::StatusCode::NOT_FOUND);
  // Even the services' token cannot make a count wrap.
  for (const char* batch : {"max-1", "max-2"}) {
    grpc::Status s = RecordMax(As::kService, batch);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr("counts[0].count"));
  }
  // Nothing of the forged calls took effect.
  auto list = computer_->TelecJson({"cartridges", "list"});
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(ToText(**list), ::testing::Not(HasSubstr("forged")));
  EXPECT_THAT(ToText(**list), ::testing::Not(HasSubstr("9223372036854775807")));

  // Meanwhile telec works, and so do the services among themselves: a
  // published cartridge goes egress -> installer (pending) and is activated.
  ExpectTelecWorks("after-attacks");
  const std::string file = computer_->data_dir() + "/../tagger.lua";
  {
    auto write = testing::RunCommand(
        {"sh", "-c", absl::StrCat("printf 'function process(e) return e end' > ", file)});
    ASSERT_TRUE(write.ok());
  }
  auto publish = computer_->Telec({"cartridges", "publish", file, "--name", "tagger", "--version",
                                   "1.0.0", "--event-type", "demo.ping"});
  ASSERT_TRUE(publish.ok());
  EXPECT_EQ(publish->exit_code, 0) << Output(*publish);
  EXPECT_TRUE(WaitFor(
      [] {
        auto show = computer_->Telec({"cartridges", "show", "tagger"});
        return show.ok() && show->exit_code == 0;
      },
      absl::Seconds(20)));
  auto activate = computer_->Telec({"cartridges", "activate", "tagger"});
  ASSERT_TRUE(activate.ok());
  EXPECT_EQ(activate->exit_code, 0) << Output(*activate);

  // telec without the owner token says where it looked, in one line.
  auto no_token = computer_->Telec(
      {"notifications", "list", "--auth_token_file", computer_->data_dir() + "/missing.token"});
  ASSERT_TRUE(no_token.ok());
  EXPECT_EQ(no_token->exit_code, 1) << Output(*no_token);
  EXPECT_THAT(Output(*no_token), HasSubstr("missing.token: no such file"));
  EXPECT_EQ(Output(*no_token).find('\n'), Output(*no_token).size() - 1) << Output(*no_token);

  // A well-formed token that is not this computer's: refused, one line.
  const std::string wrong = computer_->data_dir() + "/../wrong.token";
  auto write_wrong = testing::RunCommand({"sh", "-c",
                                          absl::StrCat("umask 077; printf 'teleclaude-owner-",
                                                       std::string(64, 'c'), "\\n' > ", wrong)});
  ASSERT_TRUE(write_wrong.ok());
  auto wrong_token = computer_->Telec({"notifications", "list", "--auth_token_file", wrong});
  ASSERT_TRUE(wrong_token.ok());
  EXPECT_EQ(wrong_token->exit_code, 1) << Output(*wrong_token);
  EXPECT_THAT(Output(*wrong_token), HasSubstr("not this computer's"));
  EXPECT_EQ(Output(*wrong_token).find('\n'), Output(*wrong_token).size() - 1)
      << Output(*wrong_token);
}

TEST_F(HardeningE2ETest, DeeplyNestedPayloadIsInvalidArgumentAndTheInstallerStaysUp) {
  // A 400 KB request: 200,000 nested arrays inside the cartridge payload.
  std::string deep =
      "{\"name\":\"deep\",\"code\":" + std::string(200000, '[') + std::string(200000, ']') + "}";
  grpc::Status s = OnNotification(As::kService, deep);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("nesting deeper than 200 levels"));
  // As an envelope through egress too.
  v1::SubmitRequest r;
  r.add_events()->set_envelope_json(
      R"({"event":"demo.deep","source":"x","level":1,"payload":{"a":)" + std::string(200000, '[') +
      std::string(200000, ']') + "}}");
  v1::SubmitResponse out;
  ASSERT_TRUE(Pipeline(As::kOwner)->Submit(Context().get(), r, &out).ok());
  ASSERT_EQ(out.outcomes_size(), 1);
  EXPECT_EQ(out.outcomes(0).status(), v1::OUTCOME_INVALID);
  EXPECT_THAT(out.outcomes(0).error(), HasSubstr("nesting deeper than 200 levels"));

  auto health = testing::HealthCheck(MakeChannel(computer_->Addr(Service::kInstaller)), "");
  ASSERT_TRUE(health.ok()) << health.status() << computer_->LogTails();
  EXPECT_EQ(*health, testing::HealthStatus::kServing);
  auto list = computer_->Telec({"cartridges", "list"});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->exit_code, 0) << Output(*list);
}

TEST_F(HardeningE2ETest, NegativePagesAreInvalidArgumentNamingTheField) {
  auto ingress = v1::Ingress::NewStub(Channel(Service::kIngress, As::kOwner));
  v1::ListQuarantinedRequest q;
  q.set_offset(-1);
  v1::ListQuarantinedResponse quarantined;
  grpc::Status s = ingress->ListQuarantined(Context().get(), q, &quarantined);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("offset"));
  v1::ListNotificationsRequest n;
  n.set_limit(-5);
  v1::ListNotificationsResponse notifications;
  s = Pipeline(As::kOwner)->ListNotifications(Context().get(), n, &notifications);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("limit"));
}

// The README's grpcurl commands, made with the same metadata grpcurl's -H
// sends (grpcurl itself is not packaged for Debian 12).
TEST_F(HardeningE2ETest, ReadmeGrpcurlCallsWorkWithTheOwnerTokenHeader) {
  const std::string token(testing::TokensIn(computer_->data_dir()).owner());
  // grpcurl -plaintext ADDR list: reflection needs no token.
  auto services = testing::ListServices(MakeChannel(computer_->Addr(Service::kEgress)));
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_THAT(*services, ::testing::Contains("teleclaude.mesh.v1.Pipeline"));
  // grpcurl -plaintext -H "authorization: Bearer $(cat ~/.teleclaude/owner.token)" -d ... Emit
  {
    auto stub = v1::Pipeline::NewStub(MakeChannel(computer_->Addr(Service::kEgress)));
    v1::EmitRequest r;
    r.set_event("system.worker.crashed");
    r.set_payload_json(R"({"worker_name":"grpcurl-readme","timestamp":"t1"})");
    v1::EmitResponse out;
    auto with = Context();
    with->AddMetadata("authorization", "Bearer " + token);
    grpc::Status s = stub->Emit(with.get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    // A catalog event that creates a notification, so the reader sees one.
    EXPECT_EQ(out.outcome().status(), v1::OUTCOME_PROCESSED) << out.outcome().error();
    EXPECT_GT(out.outcome().notification_id(), 0);
    grpc::Status without = stub->Emit(Context().get(), r, &out);
    EXPECT_EQ(without.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_THAT(without.error_message(), HasSubstr("owner.token"));
  }
  // ... Ingress/Status with the header.
  {
    auto stub = v1::Ingress::NewStub(MakeChannel(computer_->Addr(Service::kIngress)));
    auto with = Context();
    with->AddMetadata("authorization", "Bearer " + token);
    v1::IngressStatusResponse out;
    grpc::Status s = stub->Status(with.get(), {}, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(out.computer_name(), "laptop");
  }
  // grpcurl -plaintext ADDR grpc.health.v1.Health/Check: no token.
  auto health = testing::HealthCheck(MakeChannel(computer_->Addr(Service::kInstaller)), "");
  ASSERT_TRUE(health.ok()) << health.status();
}

TEST_F(HardeningE2ETest, CartridgesNamedLikeSystemOnesAreRefusedWithTheReason) {
  // telec refuses to publish them.
  for (const char* name : {"dedup", "mesh-publisher", "system-audit", "teleclaude_sync"}) {
    auto publish = computer_->Telec(
        {"cartridges", "publish", "/dev/null", "--name", name, "--version", "1.0.0"});
    ASSERT_TRUE(publish.ok());
    EXPECT_EQ(publish->exit_code, 2) << Output(*publish);
    EXPECT_THAT(Output(*publish), HasSubstr(absl::StrCat("--name: \"", name, "\" is")));
  }
  // One arriving from the mesh (pushed by egress as every cartridge.published
  // is) is refused by the installer: never listed, an install_failed
  // notification says why.
  v1::OnNotificationRequest r;
  *r.add_pushes() = PublishedPush("squat-1", PublishedPayload("dedup"));
  // From two senders (each refusal is its own notification).
  *r.add_pushes() = PublishedPush("squat-2", PublishedPayload("builtin-x"), "trudy");
  v1::OnNotificationResponse out;
  grpc::Status s = Installer(As::kService)->OnNotification(Context().get(), r, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::string failures;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto list = computer_->Telec({"notifications", "list", "--type", "cartridge.install_failed",
                                      "--json", "--limit", "100"});
        failures = list.ok() ? Output(*list) : "";
        return failures.find("is the name of a system cartridge") != std::string::npos &&
               failures.find("is reserved for system cartridges") != std::string::npos;
      },
      absl::Seconds(20)))
      << failures;
  auto list = computer_->TelecJson({"cartridges", "list"});
  ASSERT_TRUE(list.ok());
  int dedup_rows = 0;
  for (const auto& c : (*list)->GetArray()) {
    if (Str(c, "name") == "dedup") ++dedup_rows;
    EXPECT_NE(Str(c, "name"), "builtin-x");
  }
  EXPECT_EQ(dedup_rows, 1);
}

}  // namespace
}  // namespace teleclaude::mesh::e2e
