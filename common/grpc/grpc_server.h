// A gRPC server as every service runs it (DESIGN §2): our services plus
// server reflection, v1alpha (gRPC's) and v1 (reflection_v1_service.h), so
// `grpcurl -plaintext ADDR list` / `describe` work with any grpcurl, and the
// standard grpc.health.v1.Health service, itself described by reflection.
#ifndef TELECLAUDE_MESH_COMMON_GRPC_GRPC_SERVER_H_
#define TELECLAUDE_MESH_COMMON_GRPC_GRPC_SERVER_H_

#include <grpcpp/impl/codegen/service_type.h>
#include <grpcpp/server.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/grpc/call_authenticator.h"

namespace teleclaude::mesh {

struct GrpcServerOptions {
  // Names used in error messages: the flag that holds the address
  // ("egress_addr") and the program ("telec-egress").
  std::string flag_name = "listen address";
  std::string program = "this service";
  // Largest request / response message, bytes (--max_message_bytes).
  int max_message_bytes = 4 * 1024 * 1024;
  // Serve health as SERVING right after start (overall and every service).
  // When false, health reports NOT_SERVING until SetServing(true).
  bool serving_at_start = true;
  // Checks every call's token before any handler runs (call_authenticator.h).
  // Every service process sets it; null (no check) is for test stand-ins.
  std::shared_ptr<const CallAuthenticator> authenticator;
  // Interceptors of every call, in order (e.g. GrpcMetricsInterceptorFactory).
  std::vector<std::shared_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
};

// A started gRPC server. Thread-safe: every method may be called from any
// thread; Shutdown() is idempotent. The services passed to Start() are not
// owned and must outlive the GrpcServer (or at least its Shutdown()).
class GrpcServer {
 public:
  // Starts listening on `addr` ("host:port"; port 0 picks a free port, see
  // port()). Registers `services` (sync, async-free callback or generic
  // grpc::Service instances), reflection and health.
  // Errors:
  //   UNAVAILABLE "<flag_name> <addr>: address already in use; another
  //     <program> may be running" when the port is taken;
  //   INVALID_ARGUMENT / UNAVAILABLE "<flag_name> <addr>: cannot listen: ..."
  //     for anything else that stops the bind.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(std::string addr,
                                                           std::vector<grpc::Service*> services,
                                                           GrpcServerOptions options = {});

  ~GrpcServer();  // Shutdown(now) if not yet shut down, then Wait().
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Sets the health status of the whole server ("" service) and of every
  // registered service: SERVING or NOT_SERVING. After Shutdown() the status
  // stays NOT_SERVING.
  void SetServing(bool serving);
  // Sets the health status of one fully-qualified service name
  // (e.g. "teleclaude.mesh.v1.Pipeline"); ignored after Shutdown().
  void SetServing(std::string_view service_name, bool serving);

  // Stops accepting calls; in-flight calls get until `deadline` from now to
  // finish, then are cancelled. Health turns NOT_SERVING first. Idempotent.
  void Shutdown(absl::Duration deadline = absl::Seconds(5));
  // Blocks until the server has shut down.
  void Wait();

  // The address as given, and the port actually bound.
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  // "127.0.0.1:<port()>" style target for clients (host of address()).
  std::string target() const;
  // Where the server listens: the host of address() as given and port()
  // ("0.0.0.0:50051" in a container), for log lines.
  std::string listen_address() const;
  // Fully-qualified names of the services passed to Start().
  const std::vector<std::string>& service_names() const { return service_names_; }

 private:
  GrpcServer(std::string address, int port, std::unique_ptr<grpc::Server> server,
             std::vector<std::string> service_names, std::unique_ptr<grpc::Service> reflection_v1);

  const std::string address_;
  const int port_;
  // Destroyed after server_ (declared before it).
  const std::unique_ptr<grpc::Service> reflection_v1_;
  const std::unique_ptr<grpc::Server> server_;
  const std::vector<std::string> service_names_;
  std::once_flag shutdown_once_;
  absl::Mutex health_mu_;  // orders SetServing with Shutdown
  bool shut_down_ ABSL_GUARDED_BY(health_mu_) = false;
};

// Sends gRPC core's own log lines to glog (once per process; idempotent).
// GrpcServer::Start and MakeChannel call it.
void RouteGrpcLogsToGlog();

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_GRPC_SERVER_H_
