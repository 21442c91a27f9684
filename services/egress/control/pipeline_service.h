// The gRPC service teleclaude.mesh.v1.Pipeline (proto/.../pipeline.proto) on
// the callback API. Handlers never block a reactor thread on SQLite or Redis:
// work goes to the pipeline worker (or the cartridge manager) and the RPC is
// finished from there once its batch has committed.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_CONTROL_PIPELINE_SERVICE_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_CONTROL_PIPELINE_SERVICE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/catalog/event_catalog.h"
#include "common/grpc/call_authenticator.h"
#include "common/mesh/membership_view.h"
#include "services/egress/control/cartridge_manager.h"
#include "services/egress/pipeline/pipeline_runner.h"
#include "services/egress/pipeline/pipeline_worker.h"
#include "services/egress/pipeline/watch_hub.h"
#include "services/egress/storage/events_db.h"
#include "teleclaude/mesh/v1/pipeline.grpc.pb.h"

namespace teleclaude::mesh {

// Thread-safe.
class PipelineService final : public v1::Pipeline::CallbackService {
 public:
  struct Deps {
    std::string computer_name;
    std::optional<std::string> cluster;
    const EventCatalog* catalog = nullptr;
    EventsDb* db = nullptr;            // used on the worker thread only
    PipelineRunner* runner = nullptr;  // likewise
    PipelineWorker* worker = nullptr;
    const MembershipView* membership = nullptr;
    WatchHub* hub = nullptr;
    // The gRPC server's; Submit asks it the caller's role (ORIGIN_MESH is
    // the services'). Without one nobody is a service.
    std::shared_ptr<const CallAuthenticator> authenticator;
    CartridgeManager* cartridges = nullptr;
    // Extra figures for Stats (called on the worker thread).
    std::function<void(v1::StatsResponse*)> fill_stats;
    // Where a resolve of a cartridge.* notification queues its push for
    // the installer (used on the worker thread only).
    Outbox* push_outbox = nullptr;
  };

  explicit PipelineService(Deps deps);

  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* context,
                                   const v1::SubmitRequest* request,
                                   v1::SubmitResponse* response) override;
  grpc::ServerUnaryReactor* Emit(grpc::CallbackServerContext* context,
                                 const v1::EmitRequest* request,
                                 v1::EmitResponse* response) override;
  grpc::ServerUnaryReactor* ListNotifications(grpc::CallbackServerContext* context,
                                              const v1::ListNotificationsRequest* request,
                                              v1::ListNotificationsResponse* response) override;
  grpc::ServerUnaryReactor* GetNotification(grpc::CallbackServerContext* context,
                                            const v1::GetNotificationRequest* request,
                                            v1::Notification* response) override;
  grpc::ServerUnaryReactor* MarkSeen(grpc::CallbackServerContext* context,
                                     const v1::MarkSeenRequest* request,
                                     v1::Notification* response) override;
  grpc::ServerUnaryReactor* ResolveNotification(grpc::CallbackServerContext* context,
                                                const v1::ResolveNotificationRequest* request,
                                                v1::Notification* response) override;
  grpc::ServerUnaryReactor* ListPeers(grpc::CallbackServerContext* context,
                                      const v1::ListPeersRequest* request,
                                      v1::ListPeersResponse* response) override;
  grpc::ServerWriteReactor<v1::WatchedEvent>* WatchEvents(
      grpc::CallbackServerContext* context, const v1::WatchEventsRequest* request) override;
  grpc::ServerUnaryReactor* Stats(grpc::CallbackServerContext* context,
                                  const v1::StatsRequest* request,
                                  v1::StatsResponse* response) override;
  grpc::ServerUnaryReactor* ReloadCartridges(grpc::CallbackServerContext* context,
                                             const v1::ReloadCartridgesRequest* request,
                                             v1::ReloadCartridgesResponse* response) override;

  int64_t inputs_invalid() const { return inputs_invalid_.load(); }

  // What Stats answers, gathered on the pipeline worker; for the metrics
  // endpoint. Blocks up to `timeout` (never call it on a reactor thread).
  // UNAVAILABLE while shutting down, DEADLINE_EXCEEDED when the worker is
  // busier than `timeout`.
  absl::StatusOr<v1::StatsResponse> StatsNow(absl::Duration timeout);

  // Converts a stored row (strict JSON columns) to the proto.
  static void RowToProto(const NotificationRow& row, const EventCatalog& catalog,
                         v1::Notification* out);

 private:
  std::string NextRpcKey(std::string_view prefix);
  // REQUIRES: on the worker thread.
  void FillStats(v1::StatsResponse* response);

  const Deps deps_;
  const std::string rpc_key_prefix_;  // unique per process run
  std::atomic<int64_t> rpc_seq_{0};
  std::atomic<int64_t> inputs_invalid_{0};
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_CONTROL_PIPELINE_SERVICE_H_
