// A real gRPC teleclaude.mesh.v1.Pipeline server for ingress tests (until
// and besides the real telec-egress): it records every Submit, de-duplicates
// by message_id as egress does (OUTCOME_DUPLICATE), and can be switched to
// fail (UNAVAILABLE), to answer slowly, or be stopped and started again on
// the same port. Only Submit is implemented; every other RPC is
// UNIMPLEMENTED (the base class).
#ifndef TELECLAUDE_MESH_TESTS_SERVICES_INGRESS_RECORDING_PIPELINE_H_
#define TELECLAUDE_MESH_TESTS_SERVICES_INGRESS_RECORDING_PIPELINE_H_

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
  grpc::Status Submit(grpc::ServerContext* context, const v1::SubmitRequest* request,
                      v1::SubmitResponse* response) override;

  // Every event processed once (first submission of its message_id), in order.
  std::vector<v1::SubmittedEvent> Processed() const;
  // Processed events of one event type.
  std::vector<v1::SubmittedEvent> ProcessedOfType(const std::string& type) const;
  int submit_calls() const;
  int duplicates() const;  // submissions answered OUTCOME_DUPLICATE
  // The size of every Submit request (events), in order.
  std::vector<int> batch_sizes() const;

  // While true, Submit fails with UNAVAILABLE (and records nothing).
  void SetFailing(bool failing);
  // Each Submit sleeps this long before answering (after recording).
  void SetDelay(absl::Duration delay);

 private:
  mutable absl::Mutex mu_;
  std::vector<v1::SubmittedEvent> processed_ ABSL_GUARDED_BY(mu_);
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
  std::string addr() const;
  void Stop();   // the port refuses connections
  void Start();  // serves again on the same port (the records are kept)

 private:
  RecordingPipeline pipeline_;
  int port_;
  std::unique_ptr<GrpcServer> server_;
};

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SERVICES_INGRESS_RECORDING_PIPELINE_H_
