#include "services/egress/egress.h"

#include <utility>
#include <vector>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/envelope/proto_codec.h"
#include "common/grpc/database_probe.h"
#include "common/grpc/peer_service_probe.h"
#include "common/grpc/redis_probe.h"
#include "common/grpc/write_health_probe.h"
#include "common/identity/local_tokens.h"
#include "common/redis/redis_client.h"
#include "glog/logging.h"
#include "services/egress/cartridges/dedup_cartridge.h"
#include "services/egress/cartridges/notification_projector.h"
#include "services/egress/control/egress_metrics.h"
#include "services/egress/delivery/installer_push.h"

namespace teleclaude::mesh {

Egress::Egress(EgressOptions options, CartridgeFactoryRegistry registry)
    : options_(std::move(options)),
      registry_(std::move(registry)),
      catalog_(BuildDefaultCatalog()),
      hub_(static_cast<size_t>(options_.watch_history)) {}

Egress::~Egress() { Shutdown(); }

absl::StatusOr<std::unique_ptr<Egress>> Egress::Start(EgressOptions options,
                                                      CartridgeFactoryRegistry registry) {
  std::unique_ptr<Egress> egress(new Egress(std::move(options), std::move(registry)));
  TM_RETURN_IF_ERROR(egress->Init());
  return egress;
}

absl::Status Egress::Init() {
  const Config& config = options_.config;
  const std::string db_path = config.events_db_path().string();
  TM_ASSIGN_OR_RETURN(db_, EventsDb::Open(db_path));
  if (options_.checkpoint_thread) {
    TM_ASSIGN_OR_RETURN(
        checkpointer_,
        WalCheckpointer::Start(
            {.name = "events.db", .path = db_path, .pages = 256, .backstop_pages = 1024}));
  }

  RedisClientOptions redis;
  redis.endpoint = config.redis;
  redis.client_name = Cat("telec-egress:", config.computer_name);

  // Destinations come from membership.db, which ingress writes.
  membership_ = std::make_unique<MembershipReader>(
      MembershipReader::Options{config.membership_db_path().string(), config.computer_name,
                                config.cluster, config.peer_refresh, config.peer_retention});

  // The secrets of calls between this computer's services and from its owner
  // (doc/security.md "Local RPC authentication").
  TM_ASSIGN_OR_RETURN(LocalTokens tokens, LocalTokens::LoadOrCreate(config.auth_dir));
  installer_ = std::make_unique<InstallerClient>(
      config.installer_addr, options_.installer_timeout,
      tokens.ServiceChannel(static_cast<int>(config.max_message_bytes)));
  InvocationTracker::Options tracker_options;
  tracker_options.computer_name = config.computer_name;
  tracker_options.flush_interval = options_.invocation_flush;
  tracker_ = std::make_unique<InvocationTracker>(tracker_options,
                                                 [this](const v1::RecordInvocationsRequest& batch) {
                                                   return installer_->RecordInvocations(batch);
                                                 });

  // System cartridges (DESIGN §4 order).
  std::vector<std::unique_ptr<Cartridge>> system;
  system.push_back(std::make_unique<DedupCartridge>(&catalog_, db_.get()));
  NotificationPushFn installer_push = [this](const NotificationPushInfo& info) -> absl::Status {
    if (!IsInstallerPushType(info.envelope->event)) return absl::OkStatus();
    v1::NotificationPush push;
    push.set_notification_id(info.notification_id);
    push.set_event_type(info.envelope->event);
    push.set_level(static_cast<v1::EventLevel>(info.envelope->level));
    push.set_was_created(info.was_created);
    push.set_is_meaningful(info.is_meaningful);
    EnvelopeToProto(*info.envelope, push.mutable_envelope());
    // Stable across a crash-replay of the same input.
    push.set_push_id(Cat(options_.config.computer_name, "/", info.context->input_key, "/push/",
                         info.notification_id));
    return QueueInstallerPush(push_outbox_.get(), push);
  };
  // The installer pushes: one destination, no bound (a push is never
  // dropped; the installer's handled ids drop a copy sent again).
  TM_ASSIGN_OR_RETURN(push_outbox_, Outbox::Open(db_->database(), {.name = "push"},
                                                 /*writer=*/nullptr, /*observer=*/nullptr));
  aggregator_ =
      std::make_unique<NotificationAggregator>(NotificationAggregator::Options{}, db_.get());
  system.push_back(std::make_unique<NotificationProjector>(
      &catalog_, db_.get(), std::vector<NotificationPushFn>{installer_push}, aggregator_.get()));
  // The mesh outbox: one cursor per peer, at most --outbox_max messages
  // waiting per peer (the oldest beyond are dropped, counted per peer).
  Outbox::Options mesh_outbox;
  mesh_outbox.name = "mesh";
  mesh_outbox.max_per_destination = options_.outbox_max;
  mesh_outbox.id_per_destination = true;
  // A peer that starts losing messages to the bound raises one
  // mesh.peer.deliveries_dropped per episode (drop_episode_notifier.h).
  drop_notifier_ = std::make_unique<DropEpisodeNotifier>(config.computer_name);
  TM_ASSIGN_OR_RETURN(mesh_outbox_, Outbox::Open(db_->database(), mesh_outbox, /*writer=*/nullptr,
                                                 drop_notifier_.get()));
  auto publisher = std::make_unique<MeshPublisher>(MeshPublisher::Options{config.computer_name},
                                                   membership_.get(), mesh_outbox_.get());
  publisher_ = publisher.get();
  system.push_back(std::move(publisher));

  PipelineRunner::Options runner_options;
  runner_options.computer_name = config.computer_name;
  runner_options.failure_threshold = options_.failure_threshold;
  runner_ = std::make_unique<PipelineRunner>(
      runner_options, std::move(system),
      [this](const CartridgeSpec& spec, const std::string& reason) {
        if (manager_) manager_->ReportSuspended(spec, reason);
      });

  PipelineWorker::Options worker_options;
  worker_options.computer_name = config.computer_name;
  worker_options.checkpointer = checkpointer_.get();
  worker_options.write_health = &write_health_;
  worker_ = std::make_unique<PipelineWorker>(worker_options, db_.get(), runner_.get(), publisher_,
                                             mesh_outbox_.get(), push_outbox_.get(), tracker_.get(),
                                             &hub_);
  drop_notifier_->SetWorker(worker_.get());

  // Mesh sender: each peer on its own cursor; pipelined XADDs (DESIGN §3.3)
  // under flow control per peer (mesh_sender.h).
  // Messages to pinned peers carry sent_at and auth (doc/security.md §10.4).
  TM_ASSIGN_OR_RETURN(identity_, IdentityKey::LoadOrCreate(IdentityKey::PathIn(config.data_dir)));
  pair_keys_ = std::make_unique<PairKeyCache>(identity_.get(), config.computer_name);
  MeshSender::Options send_options{config.computer_name, config.stream_maxlen};
  if (config.mesh_authentication) {
    send_options.membership = membership_.get();
    send_options.pair_keys = pair_keys_.get();
  } else {
    LOG(WARNING) << "--nomesh_authentication: mesh messages go out UNSIGNED; peers that pinned "
                    "this computer's key refuse them (measurements only, doc/security.md §0)";
  }
  mesh_send_ = std::make_unique<MeshSender>(send_options, redis);
  OutboxSender::Options mesh_options;
  mesh_options.db_path = db_path;
  // About 40 events of 50 peers per round: one flow-control round trip,
  // then the XADDs (mesh_sender.h: two connections, 256 per round trip).
  mesh_options.max_deliveries = 2048;
  mesh_sender_ = std::make_unique<OutboxSender>(mesh_options, mesh_outbox_.get(), mesh_send_.get());

  // Push sender: Installer.OnNotification, up to 256 pushes per call,
  // retried with backoff while the installer is away (installer_transport.h).
  push_send_ = std::make_unique<InstallerTransport>(installer_.get());
  OutboxSender::Options push_options;
  push_options.db_path = db_path;
  push_options.max_deliveries = 256;
  push_options.max_rows = 256;
  push_sender_ = std::make_unique<OutboxSender>(push_options, push_outbox_.get(), push_send_.get());

  CartridgeManager::Options manager_options;
  manager_options.warn_after = config.dependency_grace;
  manager_ = std::make_unique<CartridgeManager>(manager_options, installer_.get(), &registry_,
                                                worker_.get(), runner_.get());

  LocalStreamReader::Options reader_options;
  reader_options.redis = redis;
  reader_options.stream = config.local_stream;
  reader_options.consumer = config.computer_name;
  reader_options.computer_name = config.computer_name;
  reader_ = std::make_unique<LocalStreamReader>(reader_options, worker_.get());

  PipelineService::Deps deps;
  deps.computer_name = config.computer_name;
  deps.cluster = config.cluster;
  deps.catalog = &catalog_;
  deps.db = db_.get();
  deps.runner = runner_.get();
  deps.worker = worker_.get();
  deps.membership = membership_.get();
  deps.hub = &hub_;
  deps.authenticator = tokens.Authenticator();
  deps.cartridges = manager_.get();
  deps.push_outbox = push_outbox_.get();
  deps.fill_stats = [this](v1::StatsResponse* response) {
    for (const auto& [peer, n] : mesh_send_->Forwarded()) {
      (*response->mutable_forwarded_per_peer())[peer] = n;
    }
    for (const DestinationStats& d : mesh_outbox_->Stats()) {
      v1::PeerOutbox* peer = response->add_outbox_per_peer();
      peer->set_peer(d.destination);
      peer->set_waiting(d.depth);
      peer->set_sent(d.sent);
      peer->set_dropped(d.dropped);
      peer->set_held(d.held);
      peer->set_failing(d.failing);
    }
    response->set_local_stream_lag(reader_->lag());
    response->set_invocations_unsent(tracker_->unsent());
  };
  service_ = std::make_unique<PipelineService>(deps);

  // Start: consumers of work first, inputs last.
  TM_RETURN_IF_ERROR(worker_->Start());
  TM_RETURN_IF_ERROR(mesh_sender_->Start());
  TM_RETURN_IF_ERROR(push_sender_->Start());
  tracker_->Start();
  forgotten_sweeper_ = std::make_unique<ForgottenPeerSweeper>(mesh_outbox_.get());
  membership_->Start(forgotten_sweeper_.get());
  manager_->Start();
  GrpcServerOptions server_options;
  server_options.flag_name = "egress_addr";
  server_options.program = "telec-egress";
  server_options.max_message_bytes = static_cast<int>(config.max_message_bytes);
  server_options.authenticator = deps.authenticator;
  // Health: Redis, events.db, and the installer (pushes and the cartridge
  // set wait for it) after --dependency_grace_s.
  TM_ASSIGN_OR_RETURN(telemetry_, ServiceTelemetry::Create({"telec-egress", config.metrics_addr}));
  telemetry_->health().Add(std::make_unique<RedisProbe>(redis), absl::ZeroDuration());
  telemetry_->health().Add(
      std::make_unique<DatabaseProbe>(DatabaseProbe::Options{.name = "events.db", .path = db_path}),
      absl::ZeroDuration());
  telemetry_->health().Add(
      std::make_unique<WriteHealthProbe>("events.db writes", db_path, &write_health_),
      absl::ZeroDuration());
  telemetry_->health().Add(std::make_unique<PeerServiceProbe>("installer", config.installer_addr),
                           config.dependency_grace);
  telemetry_->AddMetrics(std::make_shared<EgressMetrics>(service_.get()));
  std::vector<grpc::Service*> services = {service_.get()};
  telemetry_->Prepare(&services, &server_options);
  TM_ASSIGN_OR_RETURN(server_, GrpcServer::Start(config.ListenAddrOr(config.egress_addr), services,
                                                 server_options));
  telemetry_->Start(server_.get());
  reader_->Start();
  LOG(INFO) << "telec-egress " << config.computer_name << " listening on "
            << server_->listen_address() << ", local stream " << config.local_stream
            << ", events.db " << db_path;
  return absl::OkStatus();
}

void Egress::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    if (reader_) reader_->Stop();
    if (telemetry_) telemetry_->Stop();
    // Its refresh thread tells the sweeper, which queues work for the worker.
    if (membership_) membership_->Stop();
    if (server_) {
      server_->Shutdown(absl::Seconds(2));
      server_->Wait();
    }
    if (manager_) manager_->Stop();
    if (worker_) worker_->Stop();
    if (checkpointer_) {
      checkpointer_->Stop();
      const WalCheckpointer::Stats c = checkpointer_->stats();
      LOG(INFO) << "events.db checkpoints: " << c.checkpoints << " on their thread (longest "
                << absl::FormatDuration(c.longest) << ", " << c.failures << " failed), "
                << c.backstops << " by the pipeline worker (backstop), " << c.pages_copied
                << " pages copied";
    }
    if (mesh_sender_) mesh_sender_->Stop();
    if (push_sender_) push_sender_->Stop();
    if (tracker_) {
      tracker_->Stop();
      (void)tracker_->Flush();
    }
    LOG(INFO) << "telec-egress stopped";
  });
}

}  // namespace teleclaude::mesh
