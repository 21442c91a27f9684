// The whole ingress process wired from the configuration: quarantine store,
// membership (the writer of membership.db), trust gate, Pipeline client, mesh consumer, heartbeat
// and the gRPC server (DESIGN §2). main.cc only parses flags and waits for SIGTERM.
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_INGRESS_PROCESS_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_INGRESS_PROCESS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "common/config/config.h"
#include "common/grpc/grpc_server.h"
#include "common/grpc/service_telemetry.h"
#include "common/identity/identity_key.h"
#include "common/identity/pair_key_cache.h"
#include "common/mesh/membership_writer.h"
#include "services/ingress/heartbeat_publisher.h"
#include "services/ingress/ingress_service.h"
#include "services/ingress/key_change_notifier.h"
#include "services/ingress/mesh_consumer.h"
#include "services/ingress/message_authenticator.h"
#include "services/ingress/pipeline_client.h"
#include "services/ingress/quarantine_store.h"
#include "services/ingress/transport_responder.h"
#include "services/ingress/trust_evaluator.h"

namespace teleclaude::mesh {

// Thread-compatible: Start, then Shutdown once, from one thread (main).
class IngressProcess {
 public:
  // Opens {data_dir}/ingress.db and membership.db, starts membership, the
  // consumer, the heartbeat (once the consumer group exists) and the gRPC
  // server on config.ingress_addr. Redis or egress being down is not an
  // error (both are retried); errors are what stops the process: a database
  // cannot be opened, the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<IngressProcess>> Start(const Config& config);

  ~IngressProcess();  // Shutdown()

  // Clean shutdown: health NOT_SERVING, stop reading (the in-flight Submit
  // finishes and is acknowledged; a batch waiting to retry stays pending),
  // a "stopping" heartbeat (HeartbeatPublisher::Stop), stop the gRPC
  // server. Idempotent.
  void Shutdown();

  int port() const { return server_->port(); }

 private:
  IngressProcess() = default;

  std::unique_ptr<IdentityKey> identity_;
  std::unique_ptr<PairKeyCache> pair_keys_;
  std::unique_ptr<QuarantineStore> quarantine_;
  std::unique_ptr<PipelineClient> pipeline_;
  std::unique_ptr<KeyChangeNotifier> key_changes_;  // membership's listener: outlives it
  std::unique_ptr<MembershipWriter> membership_;
  std::unique_ptr<TrustEvaluator> trust_;
  std::unique_ptr<MessageAuthenticator> authenticator_;
  std::unique_ptr<TransportResponder> transport_;  // null with --noanswer_transport_requests
  std::unique_ptr<MeshConsumer> consumer_;
  std::unique_ptr<HeartbeatPublisher> heartbeat_;
  std::unique_ptr<IngressService> service_;
  std::unique_ptr<ServiceTelemetry> telemetry_;  // health probes, metrics
  std::unique_ptr<GrpcServer> server_;
  bool shut_down_ = false;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_INGRESS_PROCESS_H_
