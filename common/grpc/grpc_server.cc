#include "common/grpc/grpc_server.h"

#include <grpc/support/log.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/impl/server_initializer.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/grpc/reflection_v1_service.h"
#include "glog/logging.h"
#include "grpc/health/v1/health.pb.h"

namespace teleclaude::mesh {
namespace {

// Records the names of the services registered on a server (gRPC has no
// public accessor; a builder plugin sees them): ours in `out`, every one in
// the v1 reflection service's list.
class ServiceListPlugin : public grpc::ServerBuilderPlugin {
 public:
  ServiceListPlugin(std::vector<std::string>* out, ReflectionV1Service* reflection)
      : out_(out), reflection_(reflection) {}
  std::string name() override { return "teleclaude_service_list"; }
  void InitServer(grpc::ServerInitializer* /*si*/) override {}
  void Finish(grpc::ServerInitializer* si) override {
    if (const std::vector<std::string>* list = si->GetServiceList()) {
      for (const std::string& s : *list) {
        if (!absl::StartsWith(s, "grpc.")) out_->push_back(s);
      }
      reflection_->SetServiceNames(*list);
    }
  }
  void ChangeArguments(const std::string& /*name*/, void* /*value*/) override {}

 private:
  std::vector<std::string>* const out_;
  ReflectionV1Service* const reflection_;
};

class ServiceListOption : public grpc::ServerBuilderOption {
 public:
  ServiceListOption(std::vector<std::string>* out, ReflectionV1Service* reflection)
      : out_(out), reflection_(reflection) {}
  void UpdateArguments(grpc::ChannelArguments* /*args*/) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<ServiceListPlugin>(out_, reflection_));
  }

 private:
  std::vector<std::string>* const out_;
  ReflectionV1Service* const reflection_;
};

// Hands gRPC (which wants to own its factories) a shared one.
class SharedInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit SharedInterceptorFactory(
      std::shared_ptr<grpc::experimental::ServerInterceptorFactoryInterface> factory)
      : factory_(std::move(factory)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return factory_->CreateServerInterceptor(info);
  }

 private:
  const std::shared_ptr<grpc::experimental::ServerInterceptorFactoryInterface> factory_;
};

// Splits "host:port" / "[v6]:port".
bool SplitHostPort(std::string_view addr, std::string* host, std::string* port) {
  size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = addr.substr(0, colon);
  if (h.starts_with("[") && h.ends_with("]")) {
    h = h.substr(1, h.size() - 2);
  }
  *host = std::string(h);
  *port = std::string(addr.substr(colon + 1));
  return true;
}

// Why gRPC could not listen: bind the address ourselves and report errno
// (gRPC only says it failed). 0 when our own bind succeeds.
int ProbeBindErrno(std::string_view addr) {
  std::string host, port;
  if (!SplitHostPort(addr, &host, &port)) return EINVAL;
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res) != 0) {
    return EADDRNOTAVAIL;
  }
  int err = 0;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
    } else {
      err = 0;
    }
    close(fd);
    if (err != 0) break;
  }
  freeaddrinfo(res);
  return err;
}

// gRPC core logs a multi-line error report when a bind fails; Start() turns
// that into one clear Status, so while it runs the thread's gRPC log lines are
// collected instead of printed. Everything else goes to glog.
thread_local std::string* t_grpc_log_capture = nullptr;

void GrpcLogToGlog(gpr_log_func_args* args) {
  if (t_grpc_log_capture != nullptr) {
    absl::StrAppend(t_grpc_log_capture, args->message, "\n");
    return;
  }
  google::LogSeverity severity = google::GLOG_INFO;
  if (args->severity == GPR_LOG_SEVERITY_ERROR) severity = google::GLOG_ERROR;
  google::LogMessage(args->file, args->line, severity).stream() << "grpc: " << args->message;
}

}  // namespace

void RouteGrpcLogsToGlog() {
  static std::once_flag once;
  std::call_once(once, [] { gpr_set_log_function(&GrpcLogToGlog); });
}

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(std::string addr,
                                                              std::vector<grpc::Service*> services,
                                                              GrpcServerOptions options) {
  // Registers the reflection plugin explicitly: its static initializer in
  // libgrpc++_reflection is dropped when nothing references the library.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::EnableDefaultHealthCheckService(true);
  // gRPC's health service is hand-encoded: referencing the generated
  // grpc.health.v1 code puts its descriptors into the pool reflection reads
  // (`grpcurl describe grpc.health.v1.Health`).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(addr,
                           options.authenticator != nullptr
                               ? CallAuthenticator::ServerCredentials(options.authenticator)
                               : grpc::InsecureServerCredentials(),
                           &port);
  // Without this a second server on the same port would silently share it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Accept the keepalive pings MakeChannel() clients send while idle.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  for (grpc::Service* service : services) {
    CHECK(service != nullptr) << "GrpcServer::Start: null service";
    builder.RegisterService(service);
  }
  auto reflection_v1 = std::make_unique<ReflectionV1Service>();
  builder.RegisterService(reflection_v1.get());
  std::vector<std::string> names;
  builder.SetOption(std::make_unique<ServiceListOption>(&names, reflection_v1.get()));
  if (!options.interceptors.empty()) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    for (auto& factory : options.interceptors) {
      creators.push_back(std::make_unique<SharedInterceptorFactory>(factory));
    }
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }

  RouteGrpcLogsToGlog();
  std::string grpc_log;
  t_grpc_log_capture = &grpc_log;
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  t_grpc_log_capture = nullptr;
  if (server == nullptr || port == 0) {
    if (server != nullptr) server->Shutdown();
    int err = ProbeBindErrno(addr);
    if (err == EADDRINUSE) {
      return absl::UnavailableError(absl::StrCat(options.flag_name, " ", addr,
                                                 ": address already in use; another ",
                                                 options.program, " may be running"));
    }
    return absl::UnavailableError(absl::StrCat(
        options.flag_name, " ", addr, ": cannot listen",
        err != 0 ? absl::StrCat(": ", std::strerror(err))
                 : absl::StrCat(": ", grpc_log.substr(0, grpc_log.find('\n')).substr(0, 200)),
        "; use a local host:port this user may bind"));
  }
  if (!grpc_log.empty()) {
    VLOG(1) << "grpc while starting " << addr << ": " << grpc_log;
  }
  auto result = std::unique_ptr<GrpcServer>(new GrpcServer(
      std::move(addr), port, std::move(server), std::move(names), std::move(reflection_v1)));
  result->SetServing(options.serving_at_start);
  return result;
}

GrpcServer::GrpcServer(std::string address, int port, std::unique_ptr<grpc::Server> server,
                       std::vector<std::string> service_names,
                       std::unique_ptr<grpc::Service> reflection_v1)
    : address_(std::move(address)),
      port_(port),
      reflection_v1_(std::move(reflection_v1)),
      server_(std::move(server)),
      service_names_(std::move(service_names)) {}

GrpcServer::~GrpcServer() {
  Shutdown(absl::ZeroDuration());
  Wait();
}

void GrpcServer::SetServing(bool serving) {
  absl::MutexLock lock(&health_mu_);
  if (shut_down_) return;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus("", serving);
  for (const std::string& name : service_names_) {
    health->SetServingStatus(name, serving);
  }
}

void GrpcServer::SetServing(std::string_view service_name, bool serving) {
  absl::MutexLock lock(&health_mu_);
  if (shut_down_) return;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(std::string(service_name), serving);
}

void GrpcServer::Shutdown(absl::Duration deadline) {
  std::call_once(shutdown_once_, [&] {
    SetServing(false);
    {
      absl::MutexLock lock(&health_mu_);
      shut_down_ = true;
    }
    server_->Shutdown(absl::ToChronoTime(absl::Now() + deadline));
  });
}

void GrpcServer::Wait() { server_->Wait(); }

std::string GrpcServer::target() const {
  std::string host, port;
  if (!SplitHostPort(address_, &host, &port) || host.empty() || host == "0.0.0.0") {
    host = "127.0.0.1";
  } else if (host == "::") {
    host = "::1";
  }
  if (host.find(':') != std::string::npos) host = absl::StrCat("[", host, "]");
  return absl::StrCat(host, ":", port_);
}

std::string GrpcServer::listen_address() const {
  std::string host, port;
  if (!SplitHostPort(address_, &host, &port)) host.clear();
  if (host.find(':') != std::string::npos) host = absl::StrCat("[", host, "]");
  return absl::StrCat(host, ":", port_);
}

}  // namespace teleclaude::mesh
