#include "services/ingress/ingress_process.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_join.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/grpc/database_probe.h"
#include "common/grpc/peer_service_probe.h"
#include "common/grpc/redis_probe.h"
#include "common/grpc/write_health_probe.h"
#include "common/identity/local_tokens.h"
#include "common/identity/trusted_keys.h"
#include "glog/logging.h"
#include "services/ingress/ingress_metrics.h"
#include "services/ingress/trust_chain.h"

namespace teleclaude::mesh {
namespace {

RedisClientOptions RedisOptions(const Config& config, std::string_view role) {
  RedisClientOptions options;
  options.endpoint = config.redis;
  options.client_name = Cat("telec-ingress-", role);
  return options;
}

}  // namespace

absl::StatusOr<std::unique_ptr<IngressProcess>> IngressProcess::Start(const Config& config) {
  std::unique_ptr<IngressProcess> p(new IngressProcess());
  const std::string db_path = (config.data_dir / "ingress.db").string();
  TM_ASSIGN_OR_RETURN(p->quarantine_, QuarantineStore::Open(db_path));

  // This computer's identity (doc/security.md §10.1): created on first start.
  TM_ASSIGN_OR_RETURN(p->identity_,
                      IdentityKey::LoadOrCreate(IdentityKey::PathIn(config.data_dir)));
  p->pair_keys_ = std::make_unique<PairKeyCache>(p->identity_.get(), config.computer_name);

  MembershipWriter::Options membership;
  if (config.trusted_keys.has_value()) {
    TM_ASSIGN_OR_RETURN(TrustedKeys pins, TrustedKeys::LoadFile(*config.trusted_keys));
    for (const TrustedKey& pin : pins.entries()) {
      membership.policy.provisioned.emplace(pin.name, pin.fingerprint);
    }
    membership.policy.provisioned_only = true;
  }
  membership.heartbeat_ttl = config.heartbeat_ttl;
  membership.redis = RedisOptions(config, "membership");
  membership.db_path = config.membership_db_path().string();
  membership.self_name = config.computer_name;
  membership.self_cluster = config.cluster;
  membership.refresh = config.peer_refresh;
  membership.policy.retention = config.peer_retention;
  // Requests are cut at 4 MiB; responses echo the envelopes, so the channel
  // allows a single event of max_message_bytes with room to spare.
  const int64_t channel_max =
      std::min<int64_t>(std::max<int64_t>(16 << 20, 4 * config.max_message_bytes), 1 << 30);
  // The secrets of calls between this computer's services and from its owner
  // (doc/security.md "Local RPC authentication").
  absl::StatusOr<LocalTokens> tokens = LocalTokens::LoadOrCreate(config.auth_dir);
  if (!tokens.ok()) return tokens.status();
  p->pipeline_ = std::make_unique<PipelineClient>(
      config.egress_addr, absl::Seconds(10), tokens->ServiceChannel(static_cast<int>(channel_max)));
  p->key_changes_ = std::make_unique<KeyChangeNotifier>(config.computer_name, p->pipeline_.get());
  membership.listener = p->key_changes_.get();

  TM_ASSIGN_OR_RETURN(p->membership_, MembershipWriter::Open(std::move(membership)));
  p->membership_->Start();
  MembershipWriter* members = p->membership_.get();
  p->trust_ = BuildTrustGate(TrustGateOptions{config.trust_mode, config.trust_strictness,
                                              config.cluster, config.trusted_peers},
                             members);
  p->authenticator_ = std::make_unique<MessageAuthenticator>(
      MessageAuthenticator::Options{config.computer_name, config.mesh_stream(),
                                    config.accept_unsigned_from},
      members, p->pair_keys_.get());

  MeshConsumer::Options consumer_options;
  consumer_options.redis = RedisOptions(config, "consumer");
  consumer_options.computer_name = config.computer_name;
  consumer_options.stream = config.mesh_stream();
  consumer_options.max_message_bytes = config.max_message_bytes;
  consumer_options.can_read = [members] { return members->has_read_heartbeats(); };
  if (config.mesh_authentication) {
    consumer_options.authenticator = p->authenticator_.get();
  } else {
    LOG(WARNING) << "--nomesh_authentication: mesh messages are NOT authenticated; anyone who "
                    "can write to Redis can send as any peer (measurements only, "
                    "doc/security.md §0)";
  }
  // Egress accepts requests up to --max_message_bytes and echoes each event in
  // its response: half of it per Submit leaves room for the echo (a larger
  // single event still goes alone).
  consumer_options.submit_max_bytes = std::max<int64_t>(4096, config.max_message_bytes / 2);
  if (config.answer_transport_requests) {
    p->transport_ = std::make_unique<TransportResponder>(
        TransportResponder::Options{RedisOptions(config, "transport"), config.computer_name,
                                    config.computer_role, config.stream_maxlen});
    consumer_options.transport = p->transport_.get();
  }
  p->consumer_ = std::make_unique<MeshConsumer>(consumer_options, p->trust_.get(),
                                                p->quarantine_.get(), p->pipeline_.get());
  p->consumer_->Start();

  // Announced only once the group exists (nothing forwarded is missed) and
  // membership has read the heartbeats once (the consumer waits for it).
  MeshConsumer* consumer = p->consumer_.get();
  auto ready = [consumer] { return consumer->ready(); };
  p->heartbeat_ = std::make_unique<HeartbeatPublisher>(HeartbeatPublisher::Options{
      RedisOptions(config, "heartbeat"), config.computer_name, config.cluster,
      config.heartbeat_interval, config.heartbeat_ttl, ready, p->identity_.get()});
  p->heartbeat_->Start();

  p->service_ = std::make_unique<IngressService>(
      IngressService::Options{RedisOptions(config, "status"), config.computer_name, config.cluster,
                              config.mesh_stream(), std::string(kIngressGroup), config.trust_mode,
                              p->identity_->fingerprint().ToString(), config.accept_unsigned_from,
                              config.trusted_keys.has_value()},
      p->consumer_.get(), p->quarantine_.get(), members);
  GrpcServerOptions server_options;
  server_options.flag_name = "ingress_addr";
  server_options.program = "telec-ingress";
  server_options.max_message_bytes = static_cast<int>(channel_max);
  server_options.authenticator = tokens->Authenticator();
  // Health: Redis, ingress.db (its free space and its writer's commits), and
  // egress (every accepted event goes there) after --dependency_grace_s.
  absl::StatusOr<std::unique_ptr<ServiceTelemetry>> telemetry =
      ServiceTelemetry::Create({"telec-ingress", config.metrics_addr});
  std::vector<grpc::Service*> services = {p->service_.get()};
  absl::StatusOr<std::unique_ptr<GrpcServer>> server =
      absl::InternalError("not started");  // replaced below
  if (!telemetry.ok()) {
    server = telemetry.status();
  } else {
    p->telemetry_ = *std::move(telemetry);
    HealthMonitor& health = p->telemetry_->health();
    health.Add(std::make_unique<RedisProbe>(RedisOptions(config, "status")), absl::ZeroDuration());
    health.Add(std::make_unique<DatabaseProbe>(
                   DatabaseProbe::Options{.name = "ingress.db", .path = db_path}),
               absl::ZeroDuration());
    // The writer's own view: its commits fail because the disk is full.
    health.Add(std::make_unique<WriteHealthProbe>("ingress.db writes", db_path,
                                                  p->quarantine_->write_health()),
               absl::ZeroDuration());
    // membership.db's writes (MembershipWriter): failing while the disk is
    // full; the peers stay as recorded meanwhile.
    health.Add(std::make_unique<WriteHealthProbe>("membership.db writes",
                                                  config.membership_db_path().string(),
                                                  p->membership_->write_health()),
               absl::ZeroDuration());
    health.Add(std::make_unique<PeerServiceProbe>("egress", config.egress_addr),
               config.dependency_grace);
    p->telemetry_->AddMetrics(std::make_shared<IngressMetrics>(p->service_.get()));
    p->telemetry_->Prepare(&services, &server_options);
    server = GrpcServer::Start(config.ListenAddrOr(config.ingress_addr), services, server_options);
  }
  if (!server.ok()) {
    p->consumer_->Stop();
    p->heartbeat_->Withdraw();
    p->membership_->Stop();
    p->shut_down_ = true;
    return server.status();
  }
  p->server_ = *std::move(server);
  p->telemetry_->Start(p->server_.get());
  LOG(INFO) << "telec-ingress " << config.computer_name << " listening on "
            << p->server_->listen_address() << " (stream " << config.mesh_stream()
            << ", trust_mode " << TrustModeName(config.trust_mode) << ", strictness "
            << TrustStrictnessName(config.trust_strictness) << ", egress " << config.egress_addr
            << ", identity " << p->identity_->fingerprint().ToString() << ", unsigned from "
            << (config.accept_unsigned_from.empty()
                    ? "nobody"
                    : absl::StrJoin(config.accept_unsigned_from, ","))
            << (config.trusted_keys ? ", keys pinned by --trusted_keys"
                                    : ", keys pinned on first use")
            << ", transport requests "
            << (config.answer_transport_requests ? "answered" : "left to another daemon") << ")";
  return p;
}

IngressProcess::~IngressProcess() { Shutdown(); }

void IngressProcess::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (telemetry_) telemetry_->Stop();
  // Start() failed before the server existed: what it started stops with
  // its own destructor.
  if (server_ == nullptr) return;
  server_->SetServing(false);
  consumer_->Stop();
  heartbeat_->Stop();
  membership_->Stop();
  server_->Shutdown(absl::Seconds(2));
  server_->Wait();
  const IngressCounters counters = consumer_->Counters();
  LOG(INFO) << "telec-ingress stopped: received " << counters.received << ", accepted "
            << counters.accepted << ", quarantined " << counters.quarantined
            << ", non-mesh ignored " << counters.non_mesh_ignored;
}

}  // namespace teleclaude::mesh
