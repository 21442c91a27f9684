#include "common/grpc/grpc_server.h"

#include <grpcpp/client_context.h>
#include <grpcpp/impl/codegen/client_callback.h>
#include <grpcpp/impl/codegen/rpc_method.h>
#include <grpcpp/impl/codegen/sync_stream.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpc/channel.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "teleclaude/mesh/v1/installer.grpc.pb.h"
#include "teleclaude/mesh/v1/pipeline.grpc.pb.h"
#include "tests/common/grpc/grpc_probe.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::HealthCheck;
using ::teleclaude::mesh::testing::HealthStatus;
using ::teleclaude::mesh::testing::ListServices;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kPipeline[] = "teleclaude.mesh.v1.Pipeline";
constexpr char kInstaller[] = "teleclaude.mesh.v1.Installer";

namespace rv1 = ::grpc::reflection::v1;

// One request on a reflection stream of `method` (v1 and v1alpha share the
// wire format, so the v1 messages speak both), as grpcurl sends it.
absl::StatusOr<rv1::ServerReflectionResponse> Reflect(const std::shared_ptr<grpc::Channel>& channel,
                                                      const char* method,
                                                      const rv1::ServerReflectionRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  grpc::internal::RpcMethod rpc(method, grpc::internal::RpcMethod::BIDI_STREAMING, channel);
  std::unique_ptr<
      grpc::ClientReaderWriter<rv1::ServerReflectionRequest, rv1::ServerReflectionResponse>>
      stream(grpc::internal::ClientReaderWriterFactory<
             rv1::ServerReflectionRequest, rv1::ServerReflectionResponse>::Create(channel.get(),
                                                                                  rpc, &context));
  rv1::ServerReflectionResponse response;
  if (!stream->Write(request) || !stream->WritesDone() || !stream->Read(&response)) {
    grpc::Status status = stream->Finish();
    return absl::UnavailableError(absl::StrCat(method, ": ", status.error_message()));
  }
  stream->Finish();
  return response;
}

constexpr char kReflectionV1[] = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
constexpr char kReflectionV1alpha[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

class GrpcServerTest : public ::testing::Test {
 protected:
  std::unique_ptr<GrpcServer> StartServer(GrpcServerOptions options = {}) {
    auto server = GrpcServer::Start("127.0.0.1:0", {&pipeline_, &installer_}, options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  v1::Pipeline::Service pipeline_;
  v1::Installer::Service installer_;
};

TEST_F(GrpcServerTest, ServesHealthForServerAndEachService) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  EXPECT_EQ(server->target(), absl::StrCat("127.0.0.1:", server->port()));
  EXPECT_THAT(server->service_names(), ElementsAre(kPipeline, kInstaller));
  auto channel = MakeChannel(server->target());
  EXPECT_EQ(*HealthCheck(channel, ""), HealthStatus::kServing);
  EXPECT_EQ(*HealthCheck(channel, kPipeline), HealthStatus::kServing);
  EXPECT_EQ(*HealthCheck(channel, kInstaller), HealthStatus::kServing);
  EXPECT_EQ(HealthCheck(channel, "no.such.Service").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(GrpcServerTest, ListenAddressKeepsTheHostAsGivenWithTheBoundPort) {
  // 0.0.0.0 (a container) keeps its host too; scripts/docker-check.sh checks
  // that log line. Tests bind loopback only.
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->address(), "127.0.0.1:0");
  EXPECT_EQ(server->listen_address(), absl::StrCat("127.0.0.1:", server->port()));
}

TEST_F(GrpcServerTest, SetServingChangesHealth) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto channel = MakeChannel(server->target());
  server->SetServing(false);
  EXPECT_EQ(*HealthCheck(channel, ""), HealthStatus::kNotServing);
  EXPECT_EQ(*HealthCheck(channel, kPipeline), HealthStatus::kNotServing);
  server->SetServing(kPipeline, true);
  EXPECT_EQ(*HealthCheck(channel, kPipeline), HealthStatus::kServing);
  EXPECT_EQ(*HealthCheck(channel, kInstaller), HealthStatus::kNotServing);
}

TEST_F(GrpcServerTest, NotServingAtStartWhenAsked) {
  GrpcServerOptions options;
  options.serving_at_start = false;
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  auto channel = MakeChannel(server->target());
  EXPECT_EQ(*HealthCheck(channel, ""), HealthStatus::kNotServing);
  server->SetServing(true);
  EXPECT_EQ(*HealthCheck(channel, ""), HealthStatus::kServing);
}

TEST_F(GrpcServerTest, ReflectionListsEveryService) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto services = ListServices(MakeChannel(server->target()));
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_THAT(*services,
              ElementsAre("grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                          "grpc.reflection.v1alpha.ServerReflection", kInstaller, kPipeline));
}

// `grpcurl describe grpc.health.v1.Health` and `grpcurl ... Health/Check`
// (issue 17): both reflection versions describe the built-in health
// service, and the file they send declares it.
TEST_F(GrpcServerTest, BothReflectionVersionsDescribeTheHealthService) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto channel = MakeChannel(server->target());
  for (const char* method : {kReflectionV1, kReflectionV1alpha}) {
    SCOPED_TRACE(method);
    rv1::ServerReflectionRequest request;
    request.set_file_containing_symbol("grpc.health.v1.Health");
    absl::StatusOr<rv1::ServerReflectionResponse> response = Reflect(channel, method, request);
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_TRUE(response->has_file_descriptor_response())
        << response->error_response().error_message();
    bool declares_health = false;
    for (const std::string& bytes : response->file_descriptor_response().file_descriptor_proto()) {
      google::protobuf::FileDescriptorProto file;
      ASSERT_TRUE(file.ParseFromString(bytes));
      for (const auto& service : file.service()) {
        if (file.package() == "grpc.health.v1" && service.name() == "Health") {
          declares_health = true;
          EXPECT_EQ(service.method(0).name(), "Check");
        }
      }
    }
    EXPECT_TRUE(declares_health);
  }
}

TEST_F(GrpcServerTest, ReflectionV1ListsServicesAndDescribesOurs) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto channel = MakeChannel(server->target());
  rv1::ServerReflectionRequest list;
  list.set_list_services("*");
  absl::StatusOr<rv1::ServerReflectionResponse> listed = Reflect(channel, kReflectionV1, list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  std::vector<std::string> names;
  for (const auto& s : listed->list_services_response().service()) names.push_back(s.name());
  EXPECT_THAT(names, ::testing::IsSupersetOf({"grpc.health.v1.Health", kPipeline, kInstaller,
                                              "grpc.reflection.v1.ServerReflection"}));

  rv1::ServerReflectionRequest describe;
  describe.set_file_containing_symbol(kPipeline);
  absl::StatusOr<rv1::ServerReflectionResponse> described =
      Reflect(channel, kReflectionV1, describe);
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_GT(described->file_descriptor_response().file_descriptor_proto_size(), 0);

  rv1::ServerReflectionRequest unknown;
  unknown.set_file_containing_symbol("no.such.Service");
  absl::StatusOr<rv1::ServerReflectionResponse> missing = Reflect(channel, kReflectionV1, unknown);
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(missing->error_response().error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
}

TEST_F(GrpcServerTest, RegisteredServiceAnswersCalls) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto stub = v1::Pipeline::NewStub(MakeChannel(server->target()));
  grpc::ClientContext context;
  v1::StatsRequest request;
  v1::StatsResponse response;
  grpc::Status status = stub->Stats(&context, request, &response);
  // The base class answers UNIMPLEMENTED: the call reached the service.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(GrpcServerTest, PortTakenByAnotherServerIsAClearError) {
  auto first = StartServer();
  ASSERT_NE(first, nullptr);
  std::string addr = absl::StrCat("127.0.0.1:", first->port());
  GrpcServerOptions options;
  options.flag_name = "egress_addr";
  options.program = "telec-egress";
  v1::Pipeline::Service other;
  auto second = GrpcServer::Start(addr, {&other}, options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().message(),
            absl::StrCat("egress_addr ", addr,
                         ": address already in use; another telec-egress may "
                         "be running"));
  // The first server is unaffected.
  EXPECT_EQ(*HealthCheck(MakeChannel(first->target()), ""), HealthStatus::kServing);
}

TEST_F(GrpcServerTest, PortTakenByPlainSocketIsAClearError) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa = {};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(sa);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  std::string addr = absl::StrCat("127.0.0.1:", ntohs(sa.sin_port));
  GrpcServerOptions options;
  options.flag_name = "installer_addr";
  options.program = "telec-installer";
  auto server = GrpcServer::Start(addr, {&pipeline_}, options);
  close(fd);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().message(),
            absl::StrCat("installer_addr ", addr,
                         ": address already in use; another telec-installer "
                         "may be running"));
}

TEST_F(GrpcServerTest, UnusableAddressIsAClearError) {
  GrpcServerOptions options;
  options.flag_name = "ingress_addr";
  // 192.0.2.1 (TEST-NET-1) is not an address of this machine.
  auto server = GrpcServer::Start("192.0.2.1:50052", {&pipeline_}, options);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("ingress_addr 192.0.2.1:50052: cannot listen"));
}

TEST_F(GrpcServerTest, ShutdownStopsServingAndIsIdempotent) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto channel = MakeChannel(server->target());
  ASSERT_TRUE(HealthCheck(channel, "").ok());
  server->Shutdown(absl::Milliseconds(100));
  server->Shutdown(absl::Milliseconds(100));
  server->Wait();
  auto after = HealthCheck(MakeChannel(server->target()), "", absl::Milliseconds(500));
  EXPECT_FALSE(after.ok());
}

}  // namespace
}  // namespace teleclaude::mesh
