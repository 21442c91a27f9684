// The egress process, wired (DESIGN §2): events.db, the pipeline worker and
// runner with the system cartridges, membership (read from membership.db),
// the local stream reader,
// the mesh and push outbox senders, the invocation tracker, the cartridge
// manager and the gRPC Pipeline service. main.cc only parses flags and calls
// Start() / Shutdown(); tests start it in-process the same way.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_EGRESS_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_EGRESS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/catalog/event_catalog.h"
#include "common/config/config.h"
#include "common/delivery/outbox.h"
#include "common/delivery/outbox_sender.h"
#include "common/grpc/grpc_server.h"
#include "common/grpc/service_telemetry.h"
#include "common/identity/identity_key.h"
#include "common/identity/pair_key_cache.h"
#include "common/mesh/membership_reader.h"
#include "services/egress/cartridges/cartridge_factory.h"
#include "services/egress/cartridges/mesh_publisher.h"
#include "services/egress/cartridges/notification_aggregator.h"
#include "services/egress/control/cartridge_manager.h"
#include "services/egress/control/pipeline_service.h"
#include "services/egress/delivery/drop_episode_notifier.h"
#include "services/egress/delivery/forgotten_peer_sweeper.h"
#include "services/egress/delivery/installer_client.h"
#include "services/egress/delivery/installer_transport.h"
#include "services/egress/delivery/local_stream_reader.h"
#include "services/egress/delivery/mesh_sender.h"
#include "services/egress/pipeline/invocation_tracker.h"
#include "services/egress/pipeline/pipeline_runner.h"
#include "services/egress/pipeline/pipeline_worker.h"
#include "services/egress/pipeline/watch_hub.h"
#include "services/egress/storage/events_db.h"

namespace teleclaude::mesh {

struct EgressOptions {
  Config config;
  int64_t outbox_max = 100000;
  int failure_threshold = 5;
  absl::Duration installer_timeout = absl::Seconds(3);
  absl::Duration invocation_flush = absl::Milliseconds(200);
  // Processed events kept for `telec events tail --last N` (WatchHub).
  int64_t watch_history = 0;
  // events.db's checkpoints on a connection and thread of their own (true)
  // or on the pipeline worker between batches (--wal_checkpoints=writer).
  bool checkpoint_thread = true;
};

// Thread-safe: Start() once, Shutdown() once (idempotent).
class Egress {
 public:
  // Opens events.db, starts every thread and the gRPC server on
  // config.egress_addr (port 0 picks one; see port()). The registry is
  // copied. Errors: events.db cannot be opened / migrated, the port is taken.
  static absl::StatusOr<std::unique_ptr<Egress>> Start(EgressOptions options,
                                                       CartridgeFactoryRegistry registry);
  ~Egress();  // Shutdown()

  // SIGTERM path: stop reading the local stream (batches in flight commit and
  // are acknowledged), stop gRPC, finish what the worker has queued, stop the
  // senders (undelivered rows stay in the outbox), flush the invocation
  // tracker once (best effort, what fails is logged).
  void Shutdown();

  int port() const { return server_->port(); }

 private:
  explicit Egress(EgressOptions options, CartridgeFactoryRegistry registry);
  absl::Status Init();

  const EgressOptions options_;
  const CartridgeFactoryRegistry registry_;
  const EventCatalog catalog_;
  std::unique_ptr<IdentityKey> identity_;  // signs nothing here: its pair keys MAC messages
  std::unique_ptr<PairKeyCache> pair_keys_;
  std::unique_ptr<EventsDb> db_;
  // events.db's checkpoints on their own connection and thread, and what the
  // worker's commits last saw (disk full -> health); both outlive the worker.
  std::unique_ptr<WalCheckpointer> checkpointer_;
  WriteHealth write_health_{"events.db"};
  // Counts per-message failure notifications into one row per sender and
  // reason (issue 18 "Floods aggregate").
  std::unique_ptr<NotificationAggregator> aggregator_;
  std::unique_ptr<MembershipReader> membership_;
  std::unique_ptr<InstallerClient> installer_;
  std::unique_ptr<InvocationTracker> tracker_;
  WatchHub hub_;
  MeshPublisher* publisher_ = nullptr;
  // Before runner_ and worker_, which point to it: destroyed after them.
  std::unique_ptr<DropEpisodeNotifier> drop_notifier_;       // one notification per drop episode
  std::unique_ptr<Outbox> mesh_outbox_;                      // progress per peer (common/delivery)
  std::unique_ptr<Outbox> push_outbox_;                      // installer pushes (common/delivery)
  std::unique_ptr<ForgottenPeerSweeper> forgotten_sweeper_;  // membership -> mesh outbox
  std::unique_ptr<PipelineRunner> runner_;
  std::unique_ptr<PipelineWorker> worker_;
  std::unique_ptr<MeshSender> mesh_send_;  // the mesh outbox's transport (XADD)
  std::unique_ptr<OutboxSender> mesh_sender_;
  std::unique_ptr<InstallerTransport> push_send_;  // the push outbox's transport (OnNotification)
  std::unique_ptr<OutboxSender> push_sender_;
  std::unique_ptr<CartridgeManager> manager_;
  std::unique_ptr<LocalStreamReader> reader_;
  std::unique_ptr<PipelineService> service_;
  std::unique_ptr<ServiceTelemetry> telemetry_;  // health probes, metrics
  std::unique_ptr<GrpcServer> server_;
  std::once_flag shutdown_once_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_EGRESS_H_
