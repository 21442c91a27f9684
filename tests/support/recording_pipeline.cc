#include "tests/support/recording_pipeline.h"

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "common/base/strings.h"
#include "common/envelope/json_codec.h"
#include "glog/logging.h"
#include "tests/support/free_port.h"

namespace teleclaude::mesh::testing {

grpc::Status RecordingPipeline::Submit(grpc::ServerContext* /*context*/,
                                       const v1::SubmitRequest* request,
                                       v1::SubmitResponse* response) {
  absl::Duration delay;
  {
    absl::MutexLock lock(&mu_);
    ++calls_;
    if (failing_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "egress is switched off");
    batch_sizes_.push_back(request->events_size());
    for (const v1::SubmittedEvent& event : request->events()) {
      v1::EventOutcome* outcome = response->add_outcomes();
      if (!event.message_id().empty() && !seen_ids_.insert(event.message_id()).second) {
        outcome->set_status(v1::OUTCOME_DUPLICATE);
        ++duplicates_;
        continue;
      }
      Event recorded{event.message_id(), "", "", "", 0};
      if (event.has_envelope()) {
        recorded.type = event.envelope().event();
        recorded.payload_json = event.envelope().payload_json();
        recorded.description = event.envelope().description();
        *outcome->mutable_envelope() = event.envelope();
      } else {
        absl::StatusOr<EventEnvelope> envelope = DecodeEnvelopeJson(event.envelope_json());
        if (!envelope.ok()) {
          outcome->set_status(v1::OUTCOME_INVALID);
          outcome->set_error(std::string(envelope.status().message()));
          invalid_.push_back(std::string(envelope.status().message()));
          continue;
        }
        recorded.type = envelope->event;
        recorded.payload_json = envelope->payload_json;
        recorded.description = envelope->description;
      }
      recorded.notification_id = next_notification_id_++;
      outcome->set_status(v1::OUTCOME_PROCESSED);
      outcome->set_notification_id(recorded.notification_id);
      processed_.push_back(event);
      events_.push_back(std::move(recorded));
    }
    delay = delay_;
  }
  absl::SleepFor(delay);
  return grpc::Status::OK;
}

grpc::Status RecordingPipeline::ResolveNotification(grpc::ServerContext* /*context*/,
                                                    const v1::ResolveNotificationRequest* request,
                                                    v1::Notification* response) {
  absl::MutexLock lock(&mu_);
  resolutions_.push_back({request->id(), request->resolution_json()});
  response->set_id(request->id());
  return grpc::Status::OK;
}

grpc::Status RecordingPipeline::ReloadCartridges(grpc::ServerContext* /*context*/,
                                                 const v1::ReloadCartridgesRequest* /*request*/,
                                                 v1::ReloadCartridgesResponse* /*response*/) {
  absl::MutexLock lock(&mu_);
  ++reloads_;
  return grpc::Status::OK;
}

grpc::Status RecordingPipeline::ListNotifications(grpc::ServerContext* /*context*/,
                                                  const v1::ListNotificationsRequest* request,
                                                  v1::ListNotificationsResponse* response) {
  absl::MutexLock lock(&mu_);
  for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
    if (!absl::StartsWith(it->type, request->event_type_prefix())) continue;
    v1::Notification* n = response->add_notifications();
    n->set_id(it->notification_id);
    n->set_event_type(it->type);
    n->set_payload_json(it->payload_json);
  }
  return grpc::Status::OK;
}

std::vector<RecordingPipeline::Event> RecordingPipeline::Events(const std::string& type) const {
  absl::MutexLock lock(&mu_);
  std::vector<Event> out;
  for (const Event& e : events_) {
    if (type.empty() || e.type == type) out.push_back(e);
  }
  return out;
}

std::vector<RecordingPipeline::Resolution> RecordingPipeline::Resolutions() const {
  absl::MutexLock lock(&mu_);
  return resolutions_;
}

int RecordingPipeline::reloads() const {
  absl::MutexLock lock(&mu_);
  return reloads_;
}

std::vector<std::string> RecordingPipeline::invalid() const {
  absl::MutexLock lock(&mu_);
  return invalid_;
}

std::vector<v1::SubmittedEvent> RecordingPipeline::Processed() const {
  absl::MutexLock lock(&mu_);
  return processed_;
}

std::vector<v1::SubmittedEvent> RecordingPipeline::ProcessedOfType(const std::string& type) const {
  std::vector<v1::SubmittedEvent> out;
  for (v1::SubmittedEvent& event : Processed()) {
    if (event.envelope().event() == type) out.push_back(std::move(event));
  }
  return out;
}

int RecordingPipeline::submit_calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

int RecordingPipeline::duplicates() const {
  absl::MutexLock lock(&mu_);
  return duplicates_;
}

std::vector<int> RecordingPipeline::batch_sizes() const {
  absl::MutexLock lock(&mu_);
  return batch_sizes_;
}

void RecordingPipeline::SetFailing(bool failing) {
  absl::MutexLock lock(&mu_);
  failing_ = failing;
}

void RecordingPipeline::SetDelay(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  delay_ = delay;
}

RecordingPipelineServer::RecordingPipelineServer() : port_(FreeLoopbackPort()) { Start(); }

RecordingPipelineServer::~RecordingPipelineServer() { Stop(); }

std::string RecordingPipelineServer::addr() const { return Cat("127.0.0.1:", port_); }

void RecordingPipelineServer::Stop() {
  if (server_ == nullptr) return;
  server_->Shutdown(absl::ZeroDuration());
  server_->Wait();
  server_.reset();
}

void RecordingPipelineServer::Start() {
  if (server_ != nullptr) return;
  GrpcServerOptions options;
  options.program = "recording pipeline";
  auto server = GrpcServer::Start(addr(), {&pipeline_}, options);
  CHECK(server.ok()) << server.status();
  server_ = *std::move(server);
}

}  // namespace teleclaude::mesh::testing
