// A real gRPC teleclaude.mesh.v1.Pipeline server standing in for egress in
// the tests of its clients (ingress, the installer): it records every
// Submit, de-duplicates by message_id as egress does (OUTCOME_DUPLICATE),
// decodes envelopes sent as JSON with the real codec (a malformed one is
// OUTCOME_INVALID and recorded in invalid(), so it fails the test), hands out
// notification ids, and records ResolveNotification and ReloadCartridges;
// ListNotifications answers from what it recorded. It can be switched to
// fail (UNAVAILABLE), to answer slowly, or be stopped and started again on
// the same port. Other RPCs are UNIMPLEMENTED (the base class).
#ifndef TELECLAUDE_MESH_TESTS_SUPPORT_RECORDING_PIPELINE_H_
#define TELECLAUDE_MESH_TESTS_SUPPORT_RECORDING_PIPELINE_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/grpc/grpc_server.h"
#include "teleclaude/mesh/v1/pipeline.grpc.pb.h"

namespace teleclaude::mesh::testing {

// Thread-safe.
class RecordingPipeline final : public v1::Pipeline::Service {
 public:
  // A processed event as decoded.
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

  grpc::Status Submit(grpc::ServerContext* context, const v1::SubmitRequest* request,
                      v1::SubmitResponse* response) override;
  grpc::Status ResolveNotification(grpc::ServerContext* context,
                                   const v1::ResolveNotificationRequest* request,
                                   v1::Notification* response) override;
  grpc::Status ReloadCartridges(grpc::ServerContext* context,
                                const v1::ReloadCartridgesRequest* request,
                                v1::ReloadCartridgesResponse* response) override;
  grpc::Status ListNotifications(grpc::ServerContext* context,
                                 const v1::ListNotificationsRequest* request,
                                 v1::ListNotificationsResponse* response) override;

  // Every event processed once (first submission of its message_id), in order.
  std::vector<v1::SubmittedEvent> Processed() const;
  // Processed events of one event type.
  std::vector<v1::SubmittedEvent> ProcessedOfType(const std::string& type) const;
  int submit_calls() const;
  int duplicates() const;  // submissions answered OUTCOME_DUPLICATE
  // The size of every Submit request (events), in order.
  std::vector<int> batch_sizes() const;

  // Processed events, decoded; only those of `type` unless it is empty.
  std::vector<Event> Events(const std::string& type = "") const;
  std::vector<Resolution> Resolutions() const;
  int reloads() const;
  // The decoding errors of events answered OUTCOME_INVALID.
  std::vector<std::string> invalid() const;

  // While true, Submit fails with UNAVAILABLE (and records nothing).
  void SetFailing(bool failing);
  // Each Submit sleeps this long before answering (after recording).
  void SetDelay(absl::Duration delay);

 private:
  mutable absl::Mutex mu_;
  std::vector<v1::SubmittedEvent> processed_ ABSL_GUARDED_BY(mu_);
  std::vector<Event> events_ ABSL_GUARDED_BY(mu_);
  std::vector<Resolution> resolutions_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> invalid_ ABSL_GUARDED_BY(mu_);
  int64_t next_notification_id_ ABSL_GUARDED_BY(mu_) = 1000;
  int reloads_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<std::string> seen_ids_ ABSL_GUARDED_BY(mu_);
  std::vector<int> batch_sizes_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int duplicates_ ABSL_GUARDED_BY(mu_) = 0;
  bool failing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration delay_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
};

// A RecordingPipeline served on a fixed 127.0.0.1 port. Not thread-safe.
class RecordingPipelineServer {
 public:
  RecordingPipelineServer();  // picks a free port and starts
  ~RecordingPipelineServer();

  RecordingPipeline& pipeline() { return pipeline_; }
  int port() const { return port_; }
  std::string addr() const;
  void Stop();   // the port refuses connections
  void Start();  // serves again on the same port (the records are kept)

 private:
  RecordingPipeline pipeline_;
  int port_;
  std::unique_ptr<GrpcServer> server_;
};

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SUPPORT_RECORDING_PIPELINE_H_
