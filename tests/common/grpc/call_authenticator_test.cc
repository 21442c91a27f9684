#include "common/grpc/call_authenticator.h"

#include <grpcpp/client_context.h>

#include <iterator>
#include <memory>
#include <string>
#include <utility>

#include "common/grpc/channel.h"
#include "common/grpc/grpc_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "teleclaude/mesh/v1/installer.grpc.pb.h"
#include "teleclaude/mesh/v1/pipeline.grpc.pb.h"
#include "tests/common/grpc/grpc_probe.h"

namespace teleclaude::mesh {
namespace {

using ::testing::HasSubstr;

const std::string kService = "teleclaude-service-" + std::string(64, 'a');
const std::string kOwner = "teleclaude-owner-" + std::string(64, 'b');

// Answers Stats with the caller's role (as computer_name) and the number of
// properties in the call's auth context (as local_stream_lag), so a test sees
// what the handler saw.
class RoleEcho final : public v1::Pipeline::Service {
 public:
  explicit RoleEcho(std::shared_ptr<const CallAuthenticator> authenticator)
      : authenticator_(std::move(authenticator)) {}

  grpc::Status Stats(grpc::ServerContext* context, const v1::StatsRequest*,
                     v1::StatsResponse* response) override {
    response->set_computer_name(std::string(CallerRoleName(authenticator_->RoleOf(*context))));
    std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
    response->set_local_stream_lag(auth == nullptr ? -1
                                                   : std::distance(auth->begin(), auth->end()));
    return grpc::Status::OK;
  }

 private:
  const std::shared_ptr<const CallAuthenticator> authenticator_;
};

class CallAuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GrpcServerOptions options;
    options.authenticator = authenticator_;
    auto server = GrpcServer::Start("127.0.0.1:0", {&pipeline_, &installer_}, options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::shared_ptr<grpc::Channel> Channel(const std::string& token) {
    ChannelOptions options;
    options.auth_token = token;
    return MakeChannel(server_->target(), options);
  }

  grpc::Status Stats(const std::string& token, v1::StatsResponse* response) {
    grpc::ClientContext context;
    return v1::Pipeline::NewStub(Channel(token))->Stats(&context, {}, response);
  }

  grpc::Status RecordInvocations(const std::string& token) {
    grpc::ClientContext context;
    v1::RecordInvocationsResponse response;
    return v1::Installer::NewStub(Channel(token))->RecordInvocations(&context, {}, &response);
  }

  const std::shared_ptr<const CallAuthenticator> authenticator_ =
      std::make_shared<const CallAuthenticator>(kService, kOwner, "/data/owner.token");
  RoleEcho pipeline_{authenticator_};
  v1::Installer::Service installer_;  // every method UNIMPLEMENTED once past the check
  std::unique_ptr<GrpcServer> server_;
};

TEST_F(CallAuthenticatorTest, HandlerSeesTheRole) {
  v1::StatsResponse response;
  ASSERT_TRUE(Stats(kOwner, &response).ok());
  EXPECT_EQ(response.computer_name(), "owner");
  ASSERT_TRUE(Stats(kService, &response).ok());
  EXPECT_EQ(response.computer_name(), "service");
}

TEST_F(CallAuthenticatorTest, CallWithoutATokenIsUnauthenticatedAndNamesTheTokenFile) {
  v1::StatsResponse response;
  grpc::Status status = Stats("", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("/teleclaude.mesh.v1.Pipeline/Stats needs"));
  EXPECT_THAT(status.error_message(), HasSubstr("/data/owner.token"));
}

TEST_F(CallAuthenticatorTest, WrongOrMalformedTokensAreUnauthenticated) {
  v1::StatsResponse response;
  for (const std::string& token :
       {"teleclaude-owner-" + std::string(64, 'c'), "teleclaude-service-" + std::string(64, 'b'),
        kOwner + "0", kOwner.substr(0, kOwner.size() - 1), std::string("garbage")}) {
    EXPECT_EQ(Stats(token, &response).error_code(), grpc::StatusCode::UNAUTHENTICATED) << token;
  }
}

TEST_F(CallAuthenticatorTest, ServiceOnlyMethodsRefuseTheOwner) {
  grpc::Status owner = RecordInvocations(kOwner);
  EXPECT_EQ(owner.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(owner.error_message(), HasSubstr("for this computer's own services"));
  EXPECT_EQ(RecordInvocations("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // Past the check: the stand-in installer implements nothing.
  EXPECT_EQ(RecordInvocations(kService).error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(CallAuthenticatorTest, HealthAndReflectionNeedNoToken) {
  auto channel = MakeChannel(server_->target());
  auto health = testing::HealthCheck(channel, "");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, testing::HealthStatus::kServing);
  auto services = testing::ListServices(channel);
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_THAT(*services, ::testing::Contains("teleclaude.mesh.v1.Pipeline"));
}

TEST(CallAuthenticatorPolicyTest, ClassifiesMethods) {
  using Access = CallAuthenticator::Access;
  EXPECT_EQ(CallAuthenticator::AccessOf("/grpc.health.v1.Health/Check"), Access::kOpen);
  EXPECT_EQ(CallAuthenticator::AccessOf("/grpc.reflection.v1alpha.ServerReflection/"
                                        "ServerReflectionInfo"),
            Access::kOpen);
  EXPECT_EQ(CallAuthenticator::AccessOf("/teleclaude.mesh.v1.Pipeline/Emit"),
            Access::kOwnerOrService);
  for (const char* m : {"/teleclaude.mesh.v1.Installer/OnNotification",
                        "/teleclaude.mesh.v1.Installer/RecordInvocations",
                        "/teleclaude.mesh.v1.Installer/ReportCartridgeFailure",
                        "/teleclaude.mesh.v1.Installer/ListActive"}) {
    EXPECT_EQ(CallAuthenticator::AccessOf(m), Access::kServiceOnly) << m;
  }
  EXPECT_EQ(CallAuthenticator::AccessOf("/teleclaude.mesh.v1.Installer/Activate"),
            Access::kOwnerOnly);
  CallAuthenticator auth(kService, kOwner, "x");
  EXPECT_EQ(auth.Check("/teleclaude.mesh.v1.Installer/Activate", "Bearer " + kOwner).role,
            CallerRole::kOwner);
  EXPECT_EQ(auth.Check("/teleclaude.mesh.v1.Installer/Activate", kOwner).status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);  // no "Bearer "
  EXPECT_EQ(auth.Check("/grpc.health.v1.Health/Check", std::nullopt).role, CallerRole::kNone);
  // A token sent to an open method is still checked.
  EXPECT_EQ(auth.Check("/grpc.health.v1.Health/Check", "Bearer x").status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace teleclaude::mesh

namespace teleclaude::mesh {
namespace {

// The table fails closed: a method nobody classified (an RPC added later, a
// probe of a name) needs the owner's token; the services' token is refused.
TEST(CallAuthenticatorPolicyTest, UnclassifiedMethodNeedsTheOwnerToken) {
  const char* kNew = "/teleclaude.mesh.v1.Ingress/SomethingAddedLater";
  EXPECT_EQ(CallAuthenticator::AccessOf(kNew), CallAuthenticator::Access::kOwnerOnly);
  CallAuthenticator auth(kService, kOwner, "/data/owner.token");
  EXPECT_EQ(auth.Check(kNew, "Bearer " + kOwner).role, CallerRole::kOwner);
  grpc::Status service = auth.Check(kNew, "Bearer " + kService).status;
  EXPECT_EQ(service.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(service.error_message(), HasSubstr("for this computer's owner"));
  grpc::Status nobody = auth.Check(kNew, std::nullopt).status;
  EXPECT_EQ(nobody.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(nobody.error_message(), HasSubstr("/data/owner.token"));
  EXPECT_EQ(nobody.error_message().find('\n'), std::string::npos);
  // The owner's decisions are never a service's.
  EXPECT_EQ(
      auth.Check("/teleclaude.mesh.v1.Installer/Reject", "Bearer " + kService).status.error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace teleclaude::mesh

namespace teleclaude::mesh {
namespace {

// The role is the call's, not the connection's: gRPC gives the processor
// the connection's auth context, shared by every call on it. Calls on one
// connection (one channel, the token sent per call) with the owner's and the
// services' token each see their own role, and the connection's auth context
// does not grow with the calls it carries (it grew by one property per call,
// and the first call's role was every later call's).
TEST_F(CallAuthenticatorTest, RoleIsPerCallOnOneConnection) {
  auto stub = v1::Pipeline::NewStub(MakeChannel(server_->target()));
  auto stats = [&](const std::string& token, v1::StatsResponse* response) {
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    return stub->Stats(&context, {}, response);
  };
  v1::StatsResponse first;
  ASSERT_TRUE(stats(kService, &first).ok());
  EXPECT_EQ(first.computer_name(), "service");
  for (int i = 0; i < 50; ++i) {
    v1::StatsResponse owner, service;
    ASSERT_TRUE(stats(kOwner, &owner).ok());
    ASSERT_TRUE(stats(kService, &service).ok());
    EXPECT_EQ(owner.computer_name(), "owner") << i;
    EXPECT_EQ(service.computer_name(), "service") << i;
    EXPECT_EQ(service.local_stream_lag(), first.local_stream_lag()) << i;
  }
  // A refused call in between changes nothing either.
  v1::StatsResponse refused;
  EXPECT_EQ(stats("teleclaude-owner-" + std::string(64, 'c'), &refused).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::StatsResponse owner;
  ASSERT_TRUE(stats(kOwner, &owner).ok());
  EXPECT_EQ(owner.computer_name(), "owner");
}

// RoleOf checks the token itself: a server without the authenticator's
// processor (plain insecure credentials) gives no role for a token that is
// not this computer's, whatever its prefix.
TEST(CallAuthenticatorRoleTest, RoleOfChecksTheWholeToken) {
  auto authenticator = std::make_shared<const CallAuthenticator>(kService, kOwner, "x");
  RoleEcho echo(authenticator);
  auto server = GrpcServer::Start("127.0.0.1:0", {&echo}, GrpcServerOptions{});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::Pipeline::NewStub(MakeChannel((*server)->target()));
  auto role = [&](const std::string& authorization) {
    grpc::ClientContext context;
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    v1::StatsResponse response;
    grpc::Status status = stub->Stats(&context, {}, &response);
    return status.ok() ? response.computer_name() : status.error_message();
  };
  EXPECT_EQ(role("Bearer " + kService), "service");
  EXPECT_EQ(role("Bearer " + kOwner), "owner");
  EXPECT_EQ(role(""), "none");
  EXPECT_EQ(role("Bearer teleclaude-service-" + std::string(64, 'b')), "none");
  EXPECT_EQ(role("Bearer " + kService + "0"), "none");
  EXPECT_EQ(role(kService), "none");  // no "Bearer "
}

}  // namespace
}  // namespace teleclaude::mesh
