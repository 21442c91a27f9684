#include "tests/services/ingress/recording_pipeline.h"

#include "absl/time/clock.h"
#include "common/base/strings.h"
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
      outcome->set_status(v1::OUTCOME_PROCESSED);
      *outcome->mutable_envelope() = event.envelope();
      processed_.push_back(event);
    }
    delay = delay_;
  }
  absl::SleepFor(delay);
  return grpc::Status::OK;
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
