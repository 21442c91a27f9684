// telec's connections to the three services and the translation of failed
// calls into plain-words errors with telec's exit codes.
#ifndef TELECLAUDE_MESH_CLI_TELEC_SERVICE_CLIENTS_H_
#define TELECLAUDE_MESH_CLI_TELEC_SERVICE_CLIENTS_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/config/config.h"
#include "teleclaude/mesh/v1/ingress.grpc.pb.h"
#include "teleclaude/mesh/v1/installer.grpc.pb.h"
#include "teleclaude/mesh/v1/pipeline.grpc.pb.h"
#include "teleclaude/mesh/v1/readiness.grpc.pb.h"

namespace teleclaude::mesh::telec {

// telec's exit statuses (printed in `telec --help`).
enum ExitCode : int {
  kExitOk = 0,
  kExitRefused = 1,      // the service said no: unknown name, wrong state, ...
  kExitUsage = 2,        // bad command line or input
  kExitUnreachable = 3,  // a service cannot be reached
};

// The exit status for an error from this module or a command: UNAVAILABLE /
// DEADLINE_EXCEEDED -> 3, INVALID_ARGUMENT / OUT_OF_RANGE -> 2, OK -> 0,
// anything else -> 1.
int ExitCodeFor(const absl::Status& status);

enum class Service { kEgress, kIngress, kInstaller };

// "egress" / "ingress" / "installer".
std::string_view ServiceName(Service service);

// Stubs for the three services over lazily connected channels (one per
// service, created on first use). Every call carries the owner token
// (config.owner_token_path(): --auth_token_file, else {auth_dir}/owner.token,
// read once, on first use; doc/security.md "Local RPC authentication"). Thread-compatible (use from
// one thread; the stubs themselves are thread-safe).
class ServiceClients {
 public:
  // `call_timeout` bounds every unary call.
  explicit ServiceClients(const Config& config, absl::Duration call_timeout = absl::Seconds(15));

  v1::Pipeline::Stub& egress();
  v1::Ingress::Stub& ingress();
  v1::Installer::Stub& installer();
  // The Readiness service every one of them serves (what its health probes
  // found).
  v1::Readiness::Stub& readiness(Service service);

  // The address telec uses for `service`.
  const std::string& address(Service service) const;

  // A context for one unary call: deadline now + call_timeout, fail fast
  // when the service is down.
  std::unique_ptr<grpc::ClientContext> NewContext() const;

  // grpc.health.v1.Health/Check of the whole server ("" service) with
  // `timeout`. OK: SERVING; FAILED_PRECONDITION "<service> at ADDR reports
  // NOT_SERVING: <why, from its Readiness probes>"; otherwise Explain()'s
  // error.
  absl::Status CheckHealth(Service service, absl::Duration timeout);

  // A failed call of `service` in plain words:
  //  * the service cannot be reached (connection refused, no answer within
  //    the deadline): UNAVAILABLE "cannot reach egress at 127.0.0.1:50051
  //    (is telec-egress running? start it with deploy/run-local.sh)";
  //  * otherwise the service's own message with the call's code (NOT_FOUND,
  //    FAILED_PRECONDITION, ...); codes that carry no explanation of their
  //    own (UNIMPLEMENTED, INTERNAL, ...) get one. The service refused what
  //    telec sent, so its INVALID_ARGUMENT / OUT_OF_RANGE come back as
  //    FAILED_PRECONDITION (exit 1, "the service refused"; exit 2 is for
  //    what telec itself finds wrong in the command line);
  //  * UNAUTHENTICATED when the token could not be read: why not (the token
  //    file's own refusal, e.g. "auth token PATH: no such file; ...").
  // REQUIRES: !status.ok().
  absl::Status Explain(Service service, const grpc::Status& status);

 private:
  std::shared_ptr<grpc::Channel> Channel(Service service);

  // The owner token, read on first use; token_error_ says why there is none.
  const std::string& Token();

  const Config config_;
  const absl::Duration call_timeout_;
  bool token_read_ = false;
  std::string token_;
  absl::Status token_error_;
  std::shared_ptr<grpc::Channel> channels_[3];
  std::unique_ptr<v1::Pipeline::Stub> egress_;
  std::unique_ptr<v1::Ingress::Stub> ingress_;
  std::unique_ptr<v1::Installer::Stub> installer_;
  std::unique_ptr<v1::Readiness::Stub> readiness_[3];
};

// The one-line "cannot reach" message for `service` at `address`.
std::string CannotReachMessage(Service service, std::string_view address);

}  // namespace teleclaude::mesh::telec

#endif  // TELECLAUDE_MESH_CLI_TELEC_SERVICE_CLIENTS_H_
