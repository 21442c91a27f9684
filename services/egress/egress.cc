#include "services/egress/egress.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/envelope/proto_codec.h"
#include "common/mesh/mesh_message.h"
#include "common/redis/redis_client.h"
#include "glog/logging.h"
#include "services/egress/dedup_cartridge.h"
#include "services/egress/installer_push.h"
#include "services/egress/notification_projector.h"

namespace teleclaude::mesh {

Egress::Egress(EgressOptions options, CartridgeFactoryRegistry registry)
    : options_(std::move(options)),
      registry_(std::move(registry)),
      catalog_(BuildDefaultCatalog()) {}

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

  RedisClientOptions redis;
  redis.endpoint = config.redis;
  redis.client_name = Cat("telec-egress:", config.computer_name);

  PeerCache::Options peer_options;
  peer_options.redis = redis;
  peer_options.self_name = config.computer_name;
  peer_options.self_cluster = config.cluster;
  peer_options.refresh = config.peer_refresh;
  peers_ = std::make_unique<PeerCache>(peer_options);

  installer_ = std::make_unique<InstallerClient>(config.installer_addr, options_.installer_timeout);
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
    TM_RETURN_IF_ERROR(QueueInstallerPush(db_.get(), push));
    ++push_rows_added_;
    return absl::OkStatus();
  };
  system.push_back(std::make_unique<NotificationProjector>(
      &catalog_, db_.get(), std::vector<NotificationPushFn>{installer_push}));
  auto publisher = std::make_unique<MeshPublisher>(
      MeshPublisher::Options{config.computer_name, config.cluster},
      [this] { return peers_->Snapshot(); }, db_.get());
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
  worker_options.outbox_max = options_.outbox_max;
  PipelineWorker::Hooks hooks;
  hooks.wake_mesh_sender = [this] { mesh_sender_->Wake(); };
  hooks.wake_push_sender = [this] { push_sender_->Wake(); };
  hooks.take_push_rows_added = [this] { return std::exchange(push_rows_added_, 0); };
  worker_ = std::make_unique<PipelineWorker>(worker_options, db_.get(), runner_.get(), publisher_,
                                             tracker_.get(), &hub_, hooks);

  // Mesh sender: one pipelined round trip per batch of rows (DESIGN §3.3).
  auto mesh_redis = std::make_shared<RedisClient>(redis);
  const std::string self = config.computer_name;
  const int64_t maxlen = config.stream_maxlen;
  OutboxSender::Options mesh_options;
  mesh_options.name = "mesh";
  mesh_options.db_path = db_path;
  mesh_options.kind = OutboxKind::kMesh;
  mesh_sender_ = std::make_unique<OutboxSender>(
      mesh_options,
      [this, mesh_redis, self,
       maxlen](const std::vector<OutboxRow>& rows) -> absl::StatusOr<std::vector<absl::Status>> {
        // Flow control: a peer's inbox is trimmed at about `maxlen` entries
        // (DESIGN §3.3), so sending more than the receiver has room for
        // would let Redis trim messages it has not read yet. Where the peer
        // runs our ingress (its `mesh-ingress` group reports lag), send at
        // most maxlen - (unread + pending) per peer; the rest stays in the
        // outbox for the next round. Peers without that group (Python
        // readers) get no flow control, as with Python senders.
        size_t sendable = rows.size();
        {
          std::vector<std::string> peers;
          for (const OutboxRow& row : rows) {
            if (std::find(peers.begin(), peers.end(), row.destination) == peers.end()) {
              peers.push_back(row.destination);
            }
          }
          std::vector<std::vector<std::string>> info_cmds;
          info_cmds.reserve(peers.size());
          for (const std::string& peer : peers) {
            info_cmds.push_back({"XINFO", "GROUPS", MeshStreamKey(peer)});
          }
          TM_ASSIGN_OR_RETURN(std::vector<RedisReply> infos, mesh_redis->Pipeline(info_cmds));
          std::map<std::string, int64_t> room;  // peers under flow control only
          for (size_t i = 0; i < peers.size() && i < infos.size(); ++i) {
            if (infos[i].is_error()) continue;  // no stream yet: nothing to trim
            std::optional<GroupInfo> group =
                RedisClient::FindGroupInfo(infos[i], kMeshIngressGroup);
            if (!group.has_value() || !group->lag.has_value()) continue;
            room[peers[i]] = maxlen - (*group->lag + group->pending);
          }
          for (size_t i = 0; i < rows.size(); ++i) {
            auto it = room.find(rows[i].destination);
            if (it == room.end()) continue;
            if (--it->second < 0) {
              sendable = i;
              break;
            }
          }
          if (sendable < rows.size()) {
            LOG_EVERY_N(INFO, 100) << "mesh outbox: " << MeshStreamKey(rows[sendable].destination)
                                   << " is full of unread messages; holding "
                                   << rows.size() - sendable << " row(s) until it drains";
          }
        }
        std::vector<std::vector<std::string>> commands;
        commands.reserve(sendable);
        for (size_t r = 0; r < sendable; ++r) {
          const OutboxRow& row = rows[r];
          commands.push_back(
              RedisClient::XAddArgv(MeshStreamKey(row.destination),
                                    EncodeMeshMessage(row.body, self, row.message_id), maxlen));
        }
        std::vector<RedisReply> replies;
        if (!commands.empty()) {
          TM_ASSIGN_OR_RETURN(replies, mesh_redis->Pipeline(commands));
        }
        // Only WRONGTYPE (the peer's key is not a stream) refuses a row for
        // good; any other error reply (LOADING after a restart, BUSY, OOM,
        // READONLY, ...) retries the whole batch: rows that did go out are
        // sent again with the same message id (the receiver drops copies).
        for (size_t i = 0; i < replies.size(); ++i) {
          if (replies[i].is_error() && replies[i].str().rfind("WRONGTYPE", 0) != 0) {
            return absl::UnavailableError(
                Cat("XADD ", MeshStreamKey(rows[i].destination), ": ", replies[i].str()));
          }
        }
        std::vector<absl::Status> out;
        out.reserve(sendable);
        absl::MutexLock lock(&forwarded_mu_);
        for (size_t i = 0; i < sendable; ++i) {
          if (i < replies.size() && replies[i].is_error()) {
            out.push_back(absl::FailedPreconditionError(
                Cat("XADD ", MeshStreamKey(rows[i].destination), ": ", replies[i].str())));
          } else {
            out.push_back(absl::OkStatus());
            ++forwarded_[rows[i].destination];
          }
        }
        return out;
      },
      [this](OutboxKind kind, std::vector<int64_t> ids) {
        worker_->OutboxDone(kind, std::move(ids));
      },
      [this](std::vector<int64_t> ids) { worker_->OutboxAttempted(std::move(ids)); });

  OutboxSender::Options push_options;
  push_options.name = "push";
  push_options.db_path = db_path;
  push_options.kind = OutboxKind::kPush;
  push_options.batch_limit = 256;
  push_sender_ = std::make_unique<OutboxSender>(
      push_options,
      [this](const std::vector<OutboxRow>& rows) -> absl::StatusOr<std::vector<absl::Status>> {
        TM_ASSIGN_OR_RETURN(v1::OnNotificationRequest request, PushRequestFromRows(rows));
        TM_RETURN_IF_ERROR(installer_->OnNotification(request));
        return std::vector<absl::Status>(rows.size());
      },
      [this](OutboxKind kind, std::vector<int64_t> ids) {
        worker_->OutboxDone(kind, std::move(ids));
      },
      [this](std::vector<int64_t> ids) { worker_->OutboxAttempted(std::move(ids)); });

  manager_ = std::make_unique<CartridgeManager>(CartridgeManager::Options{}, installer_.get(),
                                                &registry_, worker_.get(), runner_.get());

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
  deps.peers = peers_.get();
  deps.hub = &hub_;
  deps.cartridges = manager_.get();
  deps.wake_push_sender = [this] { push_sender_->Wake(); };
  deps.fill_stats = [this](v1::StatsResponse* response) {
    {
      absl::MutexLock lock(&forwarded_mu_);
      for (const auto& [peer, n] : forwarded_) (*response->mutable_forwarded_per_peer())[peer] = n;
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
  peers_->Start();
  manager_->Start();
  GrpcServerOptions server_options;
  server_options.flag_name = "egress_addr";
  server_options.program = "telec-egress";
  server_options.max_message_bytes = static_cast<int>(config.max_message_bytes);
  TM_ASSIGN_OR_RETURN(server_, GrpcServer::Start(config.ListenAddrOr(config.egress_addr),
                                                 {service_.get()}, server_options));
  reader_->Start();
  LOG(INFO) << "telec-egress " << config.computer_name << " listening on " << server_->target()
            << ", local stream " << config.local_stream << ", events.db " << db_path;
  return absl::OkStatus();
}

void Egress::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    if (reader_) reader_->Stop();
    if (server_) {
      server_->Shutdown(absl::Seconds(2));
      server_->Wait();
    }
    if (manager_) manager_->Stop();
    if (worker_) worker_->Stop();
    if (mesh_sender_) mesh_sender_->Stop();
    if (push_sender_) push_sender_->Stop();
    if (tracker_) {
      tracker_->Stop();
      (void)tracker_->Flush();
    }
    if (peers_) peers_->Stop();
    LOG(INFO) << "telec-egress stopped";
  });
}

}  // namespace teleclaude::mesh
