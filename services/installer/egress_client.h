// The installer's calls into egress (teleclaude.mesh.v1.Pipeline): submit the
// events it emits, resolve install_pending notifications, ask for a reload of
// the active cartridges, and find a notification by its payload. Every call
// has a deadline; failures come back as statuses (the caller — the outbox
// sender — decides about retries).
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_EGRESS_CLIENT_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_EGRESS_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/grpc/channel.h"
#include "teleclaude/mesh/v1/pipeline.grpc.pb.h"

namespace teleclaude::mesh {

// Thread-safe (a gRPC stub is).
class EgressClient {
 public:
  struct Event {
    std::string message_id;     // stable across retries
    std::string envelope_json;  // DESIGN §3.1 JSON
  };
  struct Outcome {
    v1::OutcomeStatus status = v1::OUTCOME_PROCESSED;
    int64_t notification_id = 0;
    std::string error;  // for OUTCOME_INVALID
  };

  // Connects lazily to `addr`. Each call waits at most `timeout`. `channel`
  // carries this computer's service token.
  EgressClient(std::string addr, absl::Duration timeout, const ChannelOptions& channel);

  const std::string& addr() const { return addr_; }

  // Pipeline.Submit of `events` (origin local), outcomes in request order.
  // Errors: the gRPC status, "Pipeline.Submit <addr>: ..." (UNAVAILABLE when
  // egress is down); INTERNAL when egress answers with a wrong outcome count.
  absl::StatusOr<std::vector<Outcome>> Submit(const std::vector<Event>& events);

  // Pipeline.ResolveNotification.
  absl::Status Resolve(int64_t notification_id, const std::string& resolution_json);

  // Pipeline.ReloadCartridges; returns the names egress now runs.
  absl::StatusOr<v1::ReloadCartridgesResponse> Reload();

  // The id of the newest `event_type` notification whose payload has
  // name == `name` and sha256 == `sha256`, nullopt when there is none
  // (searches the newest 500 of that type).
  absl::StatusOr<std::optional<int64_t>> FindCartridgeNotification(const std::string& event_type,
                                                                   const std::string& name,
                                                                   const std::string& sha256);

 private:
  std::unique_ptr<grpc::ClientContext> Context() const;

  const std::string addr_;
  const absl::Duration timeout_;
  const std::unique_ptr<v1::Pipeline::Stub> stub_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_EGRESS_CLIENT_H_
