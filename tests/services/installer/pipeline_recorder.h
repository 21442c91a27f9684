// A real gRPC teleclaude.mesh.v1.Pipeline server for the installer's tests,
// standing in for egress: it records Submit / ResolveNotification /
// ReloadCartridges, decodes every submitted envelope with the real codec
// (so malformed events fail the test), hands out notification ids, treats a
// repeated message_id as a duplicate (as egress does) and answers
// ListNotifications from what it recorded. Thread-safe.
#ifndef TELECLAUDE_MESH_TESTS_SERVICES_INSTALLER_PIPELINE_RECORDER_H_
#define TELECLAUDE_MESH_TESTS_SERVICES_INSTALLER_PIPELINE_RECORDER_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "common/envelope/json_codec.h"
#include "common/grpc/grpc_server.h"
#include "teleclaude/mesh/v1/pipeline.grpc.pb.h"

namespace teleclaude::mesh::testing {

class PipelineRecorder final : public v1::Pipeline::Service {
 public:
  struct Event {
    std::string message_id;
    std::string type;
    std::string payload_json;
    std::string description;
    int64_t notification_id = 0;
  };
  struct Resolution {
    int64_t id = 0;
    std::string resolution_json;
  };

  grpc::Status Submit(grpc::ServerContext*, const v1::SubmitRequest* request,
                      v1::SubmitResponse* response) override {
    absl::MutexLock lock(&mu_);
    ++submit_calls_;
    for (const v1::SubmittedEvent& e : request->events()) {
      v1::EventOutcome* o = response->add_outcomes();
      if (!e.message_id().empty() && !message_ids_.insert(e.message_id()).second) {
        o->set_status(v1::OUTCOME_DUPLICATE);
        ++duplicates_;
        continue;
      }
      absl::StatusOr<EventEnvelope> env = DecodeEnvelopeJson(e.envelope_json());
      if (!env.ok()) {
        o->set_status(v1::OUTCOME_INVALID);
        o->set_error(std::string(env.status().message()));
        invalid_.push_back(std::string(env.status().message()));
        continue;
      }
      Event ev{e.message_id(), env->event, env->payload_json, env->description, next_id_++};
      o->set_status(v1::OUTCOME_PROCESSED);
      o->set_notification_id(ev.notification_id);
      events_.push_back(std::move(ev));
    }
    return grpc::Status::OK;
  }

  grpc::Status ResolveNotification(grpc::ServerContext*,
                                   const v1::ResolveNotificationRequest* request,
                                   v1::Notification* response) override {
    absl::MutexLock lock(&mu_);
    resolutions_.push_back({request->id(), request->resolution_json()});
    response->set_id(request->id());
    return grpc::Status::OK;
  }

  grpc::Status ReloadCartridges(grpc::ServerContext*, const v1::ReloadCartridgesRequest*,
                                v1::ReloadCartridgesResponse*) override {
    absl::MutexLock lock(&mu_);
    ++reloads_;
    return grpc::Status::OK;
  }

  grpc::Status ListNotifications(grpc::ServerContext*, const v1::ListNotificationsRequest* request,
                                 v1::ListNotificationsResponse* response) override {
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

  std::vector<Event> Events(const std::string& type = "") {
    absl::MutexLock lock(&mu_);
    std::vector<Event> out;
    for (const Event& e : events_) {
      if (type.empty() || e.type == type) out.push_back(e);
    }
    return out;
  }
  std::vector<Resolution> Resolutions() {
    absl::MutexLock lock(&mu_);
    return resolutions_;
  }
  int reloads() {
    absl::MutexLock lock(&mu_);
    return reloads_;
  }
  int duplicates() {
    absl::MutexLock lock(&mu_);
    return duplicates_;
  }
  std::vector<std::string> invalid() {
    absl::MutexLock lock(&mu_);
    return invalid_;
  }

 private:
  absl::Mutex mu_;
  std::vector<Event> events_ ABSL_GUARDED_BY(mu_);
  std::vector<Resolution> resolutions_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> message_ids_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> invalid_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1000;
  int reloads_ ABSL_GUARDED_BY(mu_) = 0;
  int duplicates_ ABSL_GUARDED_BY(mu_) = 0;
  int submit_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

// The recorder served on 127.0.0.1:`port`.
inline std::unique_ptr<GrpcServer> ServeRecorder(PipelineRecorder* recorder, int port) {
  auto server = GrpcServer::Start("127.0.0.1:" + std::to_string(port), {recorder});
  return server.ok() ? *std::move(server) : nullptr;
}

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SERVICES_INSTALLER_PIPELINE_RECORDER_H_
