#include "services/egress/control/pipeline_service.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/base/strings.h"
#include "common/cartridge/install_decision.h"
#include "common/envelope/json_codec.h"
#include "common/envelope/proto_codec.h"
#include "common/grpc/call_authenticator.h"
#include "common/grpc/channel.h"
#include "common/json/json_text.h"
#include "common/sqlite/transaction.h"
#include "glog/logging.h"
#include "services/egress/delivery/installer_push.h"

namespace teleclaude::mesh {
namespace {

constexpr int kMaxListLimit = 1000;
constexpr size_t kWatchQueueCapacity = 4096;

std::string IsoUtc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

// One membership record as ListPeers reports it (pipeline.proto `Peer`).
void PeerToProto(const MemberRecord& r, const MembershipSnapshot& snapshot, v1::Peer* peer) {
  peer->set_name(r.name);
  if (r.cluster.has_value()) peer->set_cluster(*r.cluster);
  peer->set_last_seen(IsoUtc(r.last_seen));
  peer->set_cluster_peer(snapshot.IsClusterPeer(r));
  peer->set_state(std::string(MemberStateName(r.state)));
  peer->set_state_since(IsoUtc(r.state_since));
  peer->set_first_seen(IsoUtc(r.first_seen));
  peer->set_stopping(r.stopping);
  if (r.forgotten_by.has_value())
    peer->set_forgotten_by(std::string(ForgottenByName(*r.forgotten_by)));
  peer->set_destination(MembershipSnapshot::IsRemembered(r));
  if (r.fingerprint.has_value()) peer->set_fingerprint(r.fingerprint->ToString());
  if (r.key_source.has_value()) peer->set_key_source(std::string(KeySourceName(*r.key_source)));
  peer->set_verified(r.verified);
  if (r.pending_public_key.has_value()) {
    peer->set_pending_fingerprint(Fingerprint::Of(*r.pending_public_key).ToString());
  }
}

v1::OutcomeStatus ToProto(InputOutcome::Status s) {
  switch (s) {
    case InputOutcome::Status::kProcessed:
      return v1::OUTCOME_PROCESSED;
    case InputOutcome::Status::kDropped:
      return v1::OUTCOME_DROPPED;
    case InputOutcome::Status::kDuplicate:
      return v1::OUTCOME_DUPLICATE;
  }
  return v1::OUTCOME_PROCESSED;
}

void FillOutcome(const InputOutcome& in, bool with_envelope, v1::EventOutcome* out) {
  out->set_status(ToProto(in.status));
  out->set_dropped_by(in.dropped_by);
  out->set_notification_id(in.notification_id);
  if (with_envelope) EnvelopeToProto(in.envelope, out->mutable_envelope());
}

std::string CanonicalOr(const std::string& stored) {
  absl::StatusOr<std::string> c = json::Canonicalize(stored);
  return c.ok() ? *c : stored;
}

v1::HumanStatus HumanStatusOf(const std::string& s) {
  return s == "seen" ? v1::HUMAN_STATUS_SEEN : v1::HUMAN_STATUS_UNSEEN;
}
v1::AgentStatus AgentStatusOf(const std::string& s) {
  if (s == "claimed") return v1::AGENT_STATUS_CLAIMED;
  if (s == "resolved") return v1::AGENT_STATUS_RESOLVED;
  return v1::AGENT_STATUS_NONE;
}

grpc::Status NotFound(int64_t id) {
  return grpc::Status(grpc::StatusCode::NOT_FOUND,
                      Cat("id: notification ", id, " not found; see `telec notifications list`"));
}

// Work posted to the worker after it stopped.
grpc::Status ShuttingDown() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "egress is shutting down");
}

// Finishes a call that answers with notification `id`: the error, NOT_FOUND,
// or the row.
void FinishWithRow(grpc::ServerUnaryReactor* reactor,
                   const absl::StatusOr<std::optional<NotificationRow>>& row, int64_t id,
                   const EventCatalog& catalog, v1::Notification* response) {
  if (!row.ok()) {
    reactor->Finish(ToGrpcStatus(row.status()));
  } else if (!row->has_value()) {
    reactor->Finish(NotFound(id));
  } else {
    PipelineService::RowToProto(**row, catalog, response);
    reactor->Finish(grpc::Status::OK);
  }
}

// One WatchEvents subscriber: a bounded queue feeding a write reactor.
class WatchSubscription : public WatchSubscriber {
 public:
  WatchSubscription(grpc::ServerWriteReactor<v1::WatchedEvent>* reactor, std::string prefix,
                    bool include_meta)
      : prefix_(std::move(prefix)), include_meta_(include_meta), reactor_(reactor) {}

  const std::string& type_prefix() const override { return prefix_; }
  bool include_meta() const override { return include_meta_; }

  void Deliver(std::shared_ptr<const v1::WatchedEvent> event) override {
    absl::MutexLock lock(&mu_);
    if (reactor_ == nullptr || finishing_) return;
    if (queue_.size() >= kWatchQueueCapacity) {
      ++gap_;
      ++lost_total_;
      return;
    }
    if (gap_ > 0) {
      auto copy = std::make_shared<v1::WatchedEvent>(*event);
      copy->set_dropped_before(gap_);
      gap_ = 0;
      event = std::move(copy);
    }
    queue_.push_back(std::move(event));
    StartNextLocked();
  }

  void WriteDone(bool ok) {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    current_.reset();
    if (!ok) finishing_ = true;
    if (finishing_) {
      FinishLocked(grpc::Status::CANCELLED);
      return;
    }
    StartNextLocked();
  }

  void Cancel() {
    absl::MutexLock lock(&mu_);
    finishing_ = true;
    if (!writing_) FinishLocked(grpc::Status::CANCELLED);
  }

  void Detach() {
    absl::MutexLock lock(&mu_);
    reactor_ = nullptr;
    if (lost_total_ > 0) LOG(INFO) << "watcher lost " << lost_total_ << " event(s) (slow reader)";
  }

 private:
  void StartNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_ || reactor_ == nullptr || queue_.empty()) return;
    current_ = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    reactor_->StartWrite(current_.get());
  }
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || reactor_ == nullptr) return;
    finished_ = true;
    reactor_->Finish(status);
  }

  const std::string prefix_;
  const bool include_meta_;
  absl::Mutex mu_;
  grpc::ServerWriteReactor<v1::WatchedEvent>* reactor_ ABSL_GUARDED_BY(mu_);
  std::deque<std::shared_ptr<const v1::WatchedEvent>> queue_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const v1::WatchedEvent> current_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  int64_t gap_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t lost_total_ ABSL_GUARDED_BY(mu_) = 0;
};

class WatchReactor : public grpc::ServerWriteReactor<v1::WatchedEvent> {
 public:
  WatchReactor(WatchHub* hub, const v1::WatchEventsRequest& request) : hub_(hub) {
    subscription_ =
        std::make_shared<WatchSubscription>(this, request.type_prefix(), request.include_meta());
    hub_->Subscribe(subscription_, static_cast<size_t>(std::max(0, request.last())));
  }
  void OnWriteDone(bool ok) override { subscription_->WriteDone(ok); }
  void OnCancel() override { subscription_->Cancel(); }
  void OnDone() override {
    hub_->Unsubscribe(subscription_.get());
    subscription_->Detach();
    delete this;
  }

 private:
  WatchHub* const hub_;
  std::shared_ptr<WatchSubscription> subscription_;
};

}  // namespace

PipelineService::PipelineService(Deps deps)
    : deps_(std::move(deps)),
      rpc_key_prefix_(Cat(deps_.computer_name, ":", absl::ToUnixMicros(absl::Now()), ":")) {}

std::string PipelineService::NextRpcKey(std::string_view prefix) {
  return Cat(prefix, rpc_key_prefix_, rpc_seq_.fetch_add(1));
}

void PipelineService::RowToProto(const NotificationRow& row, const EventCatalog& catalog,
                                 v1::Notification* out) {
  out->set_id(row.id);
  out->set_event_type(row.event_type);
  out->set_version(row.version);
  out->set_source(row.source);
  out->set_level(static_cast<v1::EventLevel>(row.level));
  out->set_domain(row.domain);
  out->set_visibility(static_cast<v1::EventVisibility>(
      static_cast<int>(ParseVisibility(row.visibility).value_or(Visibility::kLocal))));
  if (row.entity.has_value()) out->set_entity(*row.entity);
  out->set_description(row.description);
  out->set_payload_json(CanonicalOr(row.payload_json));
  if (row.idempotency_key.has_value()) out->set_idempotency_key(*row.idempotency_key);
  out->set_human_status(HumanStatusOf(row.human_status));
  out->set_agent_status(AgentStatusOf(row.agent_status));
  if (row.agent_id.has_value()) out->set_agent_id(*row.agent_id);
  if (row.resolution_json.has_value()) out->set_resolution_json(CanonicalOr(*row.resolution_json));
  out->set_created_at(row.created_at);
  out->set_updated_at(row.updated_at);
  if (row.seen_at.has_value()) out->set_seen_at(*row.seen_at);
  if (row.claimed_at.has_value()) out->set_claimed_at(*row.claimed_at);
  if (row.resolved_at.has_value()) out->set_resolved_at(*row.resolved_at);
  const EventSchema* schema = catalog.Find(row.event_type);
  out->set_actionable(schema != nullptr && schema->actionable);
}

grpc::ServerUnaryReactor* PipelineService::Submit(grpc::CallbackServerContext* context,
                                                  const v1::SubmitRequest* request,
                                                  v1::SubmitResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // An event "from the mesh" skips ingress's trust gate: only this
  // computer's own services (ingress) may say so (doc/security.md "Local RPC
  // authentication").
  const CallerRole role =
      deps_.authenticator != nullptr ? deps_.authenticator->RoleOf(*context) : CallerRole::kNone;
  if (role != CallerRole::kService) {
    for (const v1::SubmittedEvent& se : request->events()) {
      if (se.origin() != v1::ORIGIN_LOCAL) {
        reactor->Finish(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                     "events[].origin: ORIGIN_MESH is for this computer's "
                                     "ingress (the service token), not for its owner; submit "
                                     "ORIGIN_LOCAL"));
        return reactor;
      }
    }
  }
  const bool with_envelopes = !request->omit_envelopes();
  std::vector<InputEvent> events;
  std::vector<int> positions;
  events.reserve(request->events_size());
  for (int i = 0; i < request->events_size(); ++i) {
    const v1::SubmittedEvent& se = request->events(i);
    v1::EventOutcome* outcome = response->add_outcomes();
    absl::StatusOr<EventEnvelope> envelope =
        absl::InvalidArgumentError("envelope: required (set `envelope` or `envelope_json`)");
    if (se.has_envelope()) {
      envelope = EnvelopeFromProto(se.envelope());
      if (!envelope.ok()) {
        envelope = absl::InvalidArgumentError(Cat("envelope.", envelope.status().message()));
      }
    } else if (se.body_case() == v1::SubmittedEvent::kEnvelopeJson) {
      envelope = DecodeEnvelopeJson(se.envelope_json());
      if (!envelope.ok()) {
        envelope = absl::InvalidArgumentError(Cat("envelope_json: ", envelope.status().message()));
      }
    }
    if (envelope.ok() && se.origin() == v1::ORIGIN_MESH && se.source_computer().empty()) {
      envelope = absl::InvalidArgumentError(
          "source_computer: required for ORIGIN_MESH (the computer the event came from)");
    }
    if (!envelope.ok()) {
      outcome->set_status(v1::OUTCOME_INVALID);
      outcome->set_error(std::string(envelope.status().message()));
      inputs_invalid_.fetch_add(1);
      continue;
    }
    InputEvent in;
    in.envelope = std::move(*envelope);
    in.origin = se.origin() == v1::ORIGIN_MESH ? EventOrigin::kMesh : EventOrigin::kLocal;
    in.source_computer = se.source_computer();
    in.want_envelope = with_envelopes;
    if (!se.message_id().empty()) {
      in.input_key = Cat(in.origin == EventOrigin::kMesh ? "mesh:" : "submit:", se.message_id());
      in.record_input = true;
    } else {
      in.input_key = NextRpcKey("rpc:");
      in.record_input = false;
    }
    events.push_back(std::move(in));
    positions.push_back(i);
  }
  if (events.empty()) {
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  deps_.worker->Submit(
      std::move(events), [reactor, response, with_envelopes, positions = std::move(positions)](
                             absl::StatusOr<std::vector<InputOutcome>> outcomes) {
        if (!outcomes.ok()) {
          reactor->Finish(ToGrpcStatus(outcomes.status()));
          return;
        }
        for (size_t k = 0; k < outcomes->size() && k < positions.size(); ++k) {
          FillOutcome((*outcomes)[k], with_envelopes, response->mutable_outcomes(positions[k]));
        }
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerUnaryReactor* PipelineService::Emit(grpc::CallbackServerContext* context,
                                                const v1::EmitRequest* request,
                                                v1::EmitResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto invalid = [reactor](std::string message) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message)));
    return reactor;
  };
  if (request->event().empty()) {
    return invalid("event: required (the event type, e.g. system.daemon.restarted)");
  }
  EventEnvelope e;
  e.event = request->event();
  e.source = request->source().empty() ? deps_.computer_name : request->source();
  if (!request->payload_json().empty()) {
    absl::StatusOr<std::string> payload =
        json::CanonicalizeObject(request->payload_json(), "payload_json", json::NonFinite::kKeep);
    if (!payload.ok()) return invalid(std::string(payload.status().message()));
    e.payload_json = std::move(*payload);
  }
  const EventSchema* schema = deps_.catalog->Find(e.event);
  if (request->has_level()) {
    if (!v1::EventLevel_IsValid(request->level())) {
      return invalid(Cat("level: ", static_cast<int>(request->level()),
                         " is not a level; use 0-3 (INFRASTRUCTURE..BUSINESS)"));
    }
    e.level = static_cast<Level>(request->level());
  } else if (schema != nullptr) {
    e.level = schema->default_level;
  }
  if (request->has_visibility()) {
    if (!v1::EventVisibility_IsValid(request->visibility())) {
      return invalid(Cat("visibility: ", static_cast<int>(request->visibility()),
                         " is not a visibility; use local, cluster or public"));
    }
    e.visibility = static_cast<Visibility>(static_cast<int>(request->visibility()));
  } else if (schema != nullptr) {
    e.visibility = schema->default_visibility;
  }
  if (request->has_domain()) {
    e.domain = request->domain();
  } else if (schema != nullptr) {
    e.domain = schema->domain;
  }
  if (request->has_entity()) e.entity = request->entity();
  if (request->has_description()) {
    e.description = request->description();
  } else if (schema != nullptr) {
    e.description = schema->description;
  }
  if (request->has_idempotency_key()) {
    e.idempotency_key = request->idempotency_key();
  } else {
    e.idempotency_key = deps_.catalog->BuildIdempotencyKey(e.event, e.payload_json);
  }
  InputEvent in;
  in.envelope = std::move(e);
  in.input_key = NextRpcKey("emit:");
  in.record_input = false;
  in.want_envelope = true;
  std::vector<InputEvent> events;
  events.push_back(std::move(in));
  deps_.worker->Submit(
      std::move(events), [reactor, response](absl::StatusOr<std::vector<InputOutcome>> outcomes) {
        if (!outcomes.ok()) {
          reactor->Finish(ToGrpcStatus(outcomes.status()));
          return;
        }
        FillOutcome(outcomes->front(), /*with_envelope=*/true, response->mutable_outcome());
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerUnaryReactor* PipelineService::ListNotifications(
    grpc::CallbackServerContext* context, const v1::ListNotificationsRequest* request,
    v1::ListNotificationsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (request->limit() < 0 || request->offset() < 0) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "limit/offset: must not be negative"));
    return reactor;
  }
  NotificationFilter filter;
  if (request->has_min_level()) filter.min_level = static_cast<int>(request->min_level());
  if (!request->domain().empty()) filter.domain = request->domain();
  if (request->human_status() == v1::HUMAN_STATUS_UNSEEN) filter.human_status = "unseen";
  if (request->human_status() == v1::HUMAN_STATUS_SEEN) filter.human_status = "seen";
  if (request->agent_status() == v1::AGENT_STATUS_NONE) filter.agent_status = "none";
  if (request->agent_status() == v1::AGENT_STATUS_CLAIMED) filter.agent_status = "claimed";
  if (request->agent_status() == v1::AGENT_STATUS_RESOLVED) filter.agent_status = "resolved";
  if (request->has_visibility()) {
    filter.visibility = std::string(
        VisibilityName(static_cast<Visibility>(static_cast<int>(request->visibility()))));
  }
  if (!request->since().empty()) filter.since = request->since();
  if (!request->event_type_prefix().empty())
    filter.event_type_prefix = request->event_type_prefix();
  filter.limit = request->limit() == 0 ? 50 : std::min(request->limit(), kMaxListLimit);
  filter.offset = request->offset();
  deps_.worker->Post([this, reactor, response, filter](bool stopped) {
    if (stopped) {
      reactor->Finish(ShuttingDown());
      return;
    }
    absl::StatusOr<std::vector<NotificationRow>> rows = deps_.db->ListNotifications(filter);
    if (!rows.ok()) {
      reactor->Finish(ToGrpcStatus(rows.status()));
      return;
    }
    for (const NotificationRow& row : *rows) {
      RowToProto(row, *deps_.catalog, response->add_notifications());
    }
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* PipelineService::GetNotification(
    grpc::CallbackServerContext* context, const v1::GetNotificationRequest* request,
    v1::Notification* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  int64_t id = request->id();
  deps_.worker->Post([this, reactor, response, id](bool stopped) {
    if (stopped) {
      reactor->Finish(ShuttingDown());
      return;
    }
    FinishWithRow(reactor, deps_.db->GetNotification(id), id, *deps_.catalog, response);
  });
  return reactor;
}

grpc::ServerUnaryReactor* PipelineService::MarkSeen(grpc::CallbackServerContext* context,
                                                    const v1::MarkSeenRequest* request,
                                                    v1::Notification* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  int64_t id = request->id();
  deps_.worker->Post([this, reactor, response, id](bool stopped) {
    if (stopped) {
      reactor->Finish(ShuttingDown());
      return;
    }
    absl::StatusOr<std::optional<NotificationRow>> row =
        [&]() -> absl::StatusOr<std::optional<NotificationRow>> {
      absl::StatusOr<Transaction> txn = Transaction::Begin(deps_.db->database());
      if (!txn.ok()) return txn.status();
      absl::StatusOr<bool> found = deps_.db->MarkSeen(id);
      if (!found.ok()) return found.status();
      if (!*found) return std::optional<NotificationRow>();
      absl::StatusOr<std::optional<NotificationRow>> r = deps_.db->GetNotification(id);
      if (!r.ok()) return r.status();
      absl::Status s = txn->Commit();
      if (!s.ok()) return s;
      return r;
    }();
    FinishWithRow(reactor, row, id, *deps_.catalog, response);
  });
  return reactor;
}

grpc::ServerUnaryReactor* PipelineService::ResolveNotification(
    grpc::CallbackServerContext* context, const v1::ResolveNotificationRequest* request,
    v1::Notification* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string resolution = "{}";
  if (!request->resolution_json().empty()) {
    absl::StatusOr<std::string> r =
        json::CanonicalizeObject(request->resolution_json(), "resolution_json");
    if (!r.ok()) {
      reactor->Finish(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(r.status().message())));
      return reactor;
    }
    resolution = std::move(*r);
  }
  int64_t id = request->id();
  const bool force = request->force();
  deps_.worker->Post([this, reactor, response, id, resolution, force](bool stopped) {
    if (stopped) {
      reactor->Finish(ShuttingDown());
      return;
    }
    // One transaction with the push outbox: the resolution and its push
    // for the installer commit together (the worker wakes the push sender).
    std::optional<NotificationRow> row;
    absl::Status status = deps_.worker->Transact([&]() -> absl::Status {
      // Refused before anything changes: a resolution that would be
      // silently ignored, or one that would overwrite an earlier one.
      absl::StatusOr<std::optional<NotificationRow>> before = deps_.db->GetNotification(id);
      if (!before.ok()) return before.status();
      if (!before->has_value()) return absl::OkStatus();  // NOT_FOUND
      if ((*before)->agent_status == "resolved" && !force) {
        return absl::FailedPreconditionError(
            Cat("notification ", id, " (", (*before)->event_type, ") was resolved already",
                (*before)->resolved_at ? Cat(" at ", *(*before)->resolved_at) : "",
                (*before)->resolution_json ? Cat(" with ", *(*before)->resolution_json) : "",
                "; give --force to replace the resolution"));
      }
      if ((*before)->event_type == kInstallPendingType) {
        absl::StatusOr<InstallDecision> decision = ParseInstallDecision(resolution);
        if (!decision.ok()) return decision.status();
      }
      absl::StatusOr<bool> found = deps_.db->ResolveNotification(id, resolution);
      if (!found.ok()) return found.status();
      if (!*found) return absl::OkStatus();
      absl::StatusOr<std::optional<NotificationRow>> r = deps_.db->GetNotification(id);
      if (!r.ok()) return r.status();
      if (r->has_value() && IsInstallerPushType((*r)->event_type)) {
        // The installer acts on decisions (approve / reject an install).
        v1::NotificationPush push;
        push.set_notification_id(id);
        push.set_event_type((*r)->event_type);
        push.set_level(static_cast<v1::EventLevel>((*r)->level));
        push.set_was_created(false);
        push.set_is_meaningful(true);
        EnvelopeToProto(EnvelopeFromNotification(**r), push.mutable_envelope());
        push.set_resolved(true);
        push.set_resolution_json(resolution);
        push.set_push_id(
            Cat("resolve:", deps_.computer_name, ":", id, ":", absl::ToUnixMicros(absl::Now())));
        absl::Status s = QueueInstallerPush(deps_.push_outbox, push);
        if (!s.ok()) return s;
      }
      row = *std::move(r);
      return absl::OkStatus();
    });
    FinishWithRow(reactor,
                  status.ok() ? absl::StatusOr<std::optional<NotificationRow>>(std::move(row))
                              : absl::StatusOr<std::optional<NotificationRow>>(status),
                  id, *deps_.catalog, response);
  });
  return reactor;
}

grpc::ServerUnaryReactor* PipelineService::ListPeers(grpc::CallbackServerContext* context,
                                                     const v1::ListPeersRequest* /*request*/,
                                                     v1::ListPeersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  response->set_computer_name(deps_.computer_name);
  if (deps_.cluster.has_value()) response->set_cluster(*deps_.cluster);
  std::shared_ptr<const MembershipSnapshot> snapshot = deps_.membership->Snapshot();
  response->set_peer_retention_s(absl::ToInt64Seconds(snapshot->self().retention));
  for (const MemberRecord& r : snapshot->members()) {
    PeerToProto(r, *snapshot, response->add_peers());
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<v1::WatchedEvent>* PipelineService::WatchEvents(
    grpc::CallbackServerContext* /*context*/, const v1::WatchEventsRequest* request) {
  return new WatchReactor(deps_.hub, *request);
}

grpc::ServerUnaryReactor* PipelineService::Stats(grpc::CallbackServerContext* context,
                                                 const v1::StatsRequest* /*request*/,
                                                 v1::StatsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  deps_.worker->Post([this, reactor, response](bool stopped) {
    if (stopped) {
      reactor->Finish(ShuttingDown());
      return;
    }
    FillStats(response);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

absl::StatusOr<v1::StatsResponse> PipelineService::StatsNow(absl::Duration timeout) {
  struct Result {
    absl::Notification done;
    v1::StatsResponse response;
    bool stopped = false;
  };
  auto result = std::make_shared<Result>();
  deps_.worker->Post([this, result](bool stopped) {
    if (stopped) {
      result->stopped = true;
    } else {
      FillStats(&result->response);
    }
    result->done.Notify();
  });
  if (!result->done.WaitForNotificationWithTimeout(timeout)) {
    return absl::DeadlineExceededError(
        Cat("the pipeline worker did not answer within ", absl::FormatDuration(timeout)));
  }
  if (result->stopped) return absl::UnavailableError("egress is shutting down");
  return std::move(result->response);
}

void PipelineService::FillStats(v1::StatsResponse* response) {
  response->set_computer_name(deps_.computer_name);
  if (deps_.cluster.has_value()) response->set_cluster(*deps_.cluster);
  for (const auto& [name, c] : deps_.runner->counters()) {
    v1::CartridgeCounters* out = response->add_cartridges();
    out->set_name(name);
    out->set_invocations(c.invocations);
    out->set_dropped(c.dropped);
    out->set_failures(c.failures);
    out->set_suspended(c.suspended);
    out->set_skipped(c.skipped);
    out->set_unavailable(deps_.runner->Unavailable(name));
  }
  PipelineWorker::Stats w = deps_.worker->stats();
  response->set_outbox_depth(w.mesh_outbox_depth);
  response->set_outbox_dropped(w.outbox_dropped);
  response->set_inputs_processed(w.inputs_processed);
  response->set_inputs_duplicate(w.inputs_duplicate);
  response->set_inputs_invalid(inputs_invalid_.load());
  response->set_pushes_unsent(w.push_outbox_depth);
  response->set_input_holds(w.input_holds);
  response->set_wal_checkpoints(w.checkpoints);
  if (deps_.fill_stats) deps_.fill_stats(response);
}

grpc::ServerUnaryReactor* PipelineService::ReloadCartridges(
    grpc::CallbackServerContext* context, const v1::ReloadCartridgesRequest* /*request*/,
    v1::ReloadCartridgesResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  deps_.cartridges->Reload(
      [reactor, response](absl::StatusOr<v1::ReloadCartridgesResponse> result) {
        if (!result.ok()) {
          reactor->Finish(ToGrpcStatus(result.status()));
          return;
        }
        *response = std::move(*result);
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

}  // namespace teleclaude::mesh
