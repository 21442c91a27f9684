// The gRPC `teleclaude.mesh.v1.Ingress` service (proto/teleclaude/mesh/v1/
// ingress.proto): Status, ListQuarantined and ForgetPeer.
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_INGRESS_SERVICE_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_INGRESS_SERVICE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/config/config.h"
#include "common/mesh/membership_writer.h"
#include "common/redis/redis_client.h"
#include "services/ingress/mesh_consumer.h"
#include "services/ingress/quarantine_store.h"
#include "teleclaude/mesh/v1/ingress.grpc.pb.h"

namespace teleclaude::mesh {

// Thread-safe (gRPC's sync threads call it). The consumer, the store and
// membership are not owned and must outlive the service.
class IngressService final : public v1::Ingress::Service {
 public:
  struct Options {
    RedisClientOptions redis;  // for XINFO GROUPS (its own connection)
    std::string computer_name;
    std::optional<std::string> cluster;
    std::string stream;
    std::string group;
    TrustMode trust_mode = TrustMode::kCluster;
    std::string fingerprint;  // this computer's identity
    std::vector<std::string> accept_unsigned_from;
    bool trusted_keys = false;
  };

  IngressService(Options options, const MeshConsumer* consumer, QuarantineStore* quarantine,
                 MembershipWriter* membership);

  // Counters from the consumer; stream position from Redis. When Redis cannot
  // be read the counters are still returned, last_delivered_id is the newest
  // entry handled by this process and lag is -1.
  grpc::Status Status(grpc::ServerContext* context, const v1::IngressStatusRequest* request,
                      v1::IngressStatusResponse* response) override;
  // Newest first; limit 0 = 50 (at most 1000).
  grpc::Status ListQuarantined(grpc::ServerContext* context,
                               const v1::ListQuarantinedRequest* request,
                               v1::ListQuarantinedResponse* response) override;
  // MembershipWriter::Forget. INVALID_ARGUMENT for an empty or over-long
  // name, NOT_FOUND for a name membership does not hold.
  grpc::Status ForgetPeer(grpc::ServerContext* context, const v1::ForgetPeerRequest* request,
                          v1::ForgetPeerResponse* response) override;
  // MembershipWriter::TrustKey. INVALID_ARGUMENT for a bad name or a
  // malformed expected_fingerprint.
  grpc::Status TrustPeerKey(grpc::ServerContext* context, const v1::TrustPeerKeyRequest* request,
                            v1::TrustPeerKeyResponse* response) override;

 private:
  const Options options_;
  const MeshConsumer* const consumer_;
  QuarantineStore* const quarantine_;
  MembershipWriter* const membership_;
  absl::Mutex redis_mu_;
  std::unique_ptr<RedisClient> redis_ ABSL_GUARDED_BY(redis_mu_);
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_INGRESS_SERVICE_H_
