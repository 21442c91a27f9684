#include "services/ingress/ingress_service.h"

#include <utility>

#include "common/grpc/channel.h"
#include "common/mesh/heartbeat.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

IngressService::IngressService(Options options, const MeshConsumer* consumer,
                               QuarantineStore* quarantine, MembershipWriter* membership)
    : options_(std::move(options)),
      consumer_(consumer),
      quarantine_(quarantine),
      membership_(membership),
      redis_(std::make_unique<RedisClient>(options_.redis)) {}

grpc::Status IngressService::Status(grpc::ServerContext* /*context*/,
                                    const v1::IngressStatusRequest* /*request*/,
                                    v1::IngressStatusResponse* response) {
  const IngressCounters counters = consumer_->Counters();
  response->set_computer_name(options_.computer_name);
  response->set_cluster(options_.cluster.value_or(""));
  response->set_stream(options_.stream);
  response->set_group(options_.group);
  response->set_trust_mode(std::string(TrustModeName(options_.trust_mode)));
  response->set_received(counters.received);
  response->set_accepted(counters.accepted);
  response->set_flagged(counters.flagged);
  response->set_quarantined(counters.quarantined);
  for (const auto& [reason, n] : counters.rejected_by_reason) {
    (*response->mutable_rejected_by_reason())[reason] = n;
  }
  response->set_malformed(counters.malformed);
  response->set_non_mesh_ignored(counters.non_mesh_ignored);
  response->set_submit_retries(counters.submit_retries);
  response->set_heartbeats_ignored(membership_->counters().heartbeats_ignored);
  response->set_fingerprint(options_.fingerprint);
  for (const std::string& name : options_.accept_unsigned_from) {
    response->add_accept_unsigned_from(name);
  }
  response->set_trusted_keys(options_.trusted_keys);

  absl::StatusOr<GroupInfo> group;
  {
    absl::MutexLock lock(&redis_mu_);
    group = redis_->XInfoGroup(options_.stream, options_.group);
  }
  if (group.ok()) {
    response->set_last_delivered_id(group->last_delivered_id);
    response->set_lag(group->lag.value_or(-1));
  } else {
    LOG_EVERY_T(WARNING, 60) << "Ingress.Status: " << group.status();
    response->set_last_delivered_id(counters.last_entry_id);
    response->set_lag(-1);
  }
  return grpc::Status::OK;
}

grpc::Status IngressService::ListQuarantined(grpc::ServerContext* /*context*/,
                                             const v1::ListQuarantinedRequest* request,
                                             v1::ListQuarantinedResponse* response) {
  // As egress's ListNotifications: a negative page is a caller's error.
  if (request->limit() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "limit: must not be negative");
  }
  if (request->offset() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "offset: must not be negative");
  }
  absl::StatusOr<std::vector<v1::QuarantinedEvent>> events =
      quarantine_->List(request->limit(), request->offset());
  if (!events.ok()) return ToGrpcStatus(events.status());
  for (v1::QuarantinedEvent& event : *events) *response->add_events() = std::move(event);
  return grpc::Status::OK;
}

grpc::Status IngressService::ForgetPeer(grpc::ServerContext* /*context*/,
                                        const v1::ForgetPeerRequest* request,
                                        v1::ForgetPeerResponse* response) {
  // Names longer than any heartbeat's cannot be held.
  if (request->name().empty() || request->name().size() > kMaxHeartbeatBytes) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "name: give the name of a computer telec peers lists");
  }
  absl::StatusOr<MemberRecord> before = membership_->Forget(request->name());
  if (!before.ok()) return ToGrpcStatus(before.status());
  response->set_name(before->name);
  response->set_previous_state(std::string(MemberStateName(before->state)));
  return grpc::Status::OK;
}

grpc::Status IngressService::TrustPeerKey(grpc::ServerContext* /*context*/,
                                          const v1::TrustPeerKeyRequest* request,
                                          v1::TrustPeerKeyResponse* response) {
  if (request->name().empty() || request->name().size() > kMaxHeartbeatBytes) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "name: give the name of a computer telec peers lists");
  }
  std::optional<Fingerprint> expected;
  if (!request->expected_fingerprint().empty()) {
    absl::StatusOr<Fingerprint> fp =
        Fingerprint::Parse("fingerprint", request->expected_fingerprint());
    if (!fp.ok()) return ToGrpcStatus(fp.status());
    expected = *fp;
  }
  absl::StatusOr<MemberRecord> after = membership_->TrustKey(request->name(), expected);
  if (!after.ok()) return ToGrpcStatus(after.status());
  response->set_name(after->name);
  response->set_fingerprint(after->fingerprint->ToString());
  return grpc::Status::OK;
}

}  // namespace teleclaude::mesh
