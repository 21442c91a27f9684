#include "common/mesh/peer_cache.h"

#include <algorithm>
#include <utility>

#include "common/base/strings.h"
#include "common/config/config.h"
#include "common/mesh/heartbeat.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

PeerSnapshot::PeerSnapshot(std::vector<PeerInfo> peers, std::optional<std::string> self_cluster,
                           absl::Time refreshed_at)
    : peers_(std::move(peers)),
      self_cluster_(std::move(self_cluster)),
      refreshed_at_(refreshed_at) {
  std::sort(peers_.begin(), peers_.end(),
            [](const PeerInfo& a, const PeerInfo& b) { return a.name < b.name; });
}

bool PeerSnapshot::IsClusterPeer(const PeerInfo& peer) const {
  return self_cluster_.has_value() && peer.cluster.has_value() && *peer.cluster == *self_cluster_;
}

std::vector<const PeerInfo*> PeerSnapshot::ClusterPeers() const {
  std::vector<const PeerInfo*> out;
  for (const PeerInfo& p : peers_) {
    if (IsClusterPeer(p)) out.push_back(&p);
  }
  return out;
}

const PeerInfo* PeerSnapshot::Find(std::string_view name) const {
  auto it = std::lower_bound(peers_.begin(), peers_.end(), name,
                             [](const PeerInfo& p, std::string_view n) { return p.name < n; });
  if (it == peers_.end() || it->name != name) return nullptr;
  return &*it;
}

PeerCache::PeerCache(Options options)
    : options_(std::move(options)), snapshot_(std::make_shared<const PeerSnapshot>()) {
  redis_ = std::make_unique<RedisClient>(options_.redis);
}

PeerCache::~PeerCache() { Stop(); }

void PeerCache::Start() {
  if (started_.exchange(true)) return;
  thread_ = std::thread([this] { Run(); });
}

void PeerCache::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const PeerSnapshot> PeerCache::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

absl::Status PeerCache::RefreshNow() {
  absl::MutexLock redis_lock(&redis_mu_);
  absl::StatusOr<std::vector<std::string>> keys = redis_->ScanKeys("computer:*:heartbeat", 1000);
  if (!keys.ok()) return keys.status();
  std::vector<std::string> candidates;
  candidates.reserve(keys->size());
  for (std::string& key : *keys) {
    std::optional<std::string> name = ComputerNameFromHeartbeatKey(key);
    if (!name.has_value() || *name == options_.self_name) continue;
    candidates.push_back(std::move(key));
  }
  std::vector<PeerInfo> peers;
  if (!candidates.empty()) {
    absl::StatusOr<std::vector<std::optional<std::string>>> values = redis_->MGet(candidates);
    if (!values.ok()) return values.status();
    for (size_t i = 0; i < candidates.size() && i < values->size(); ++i) {
      const std::optional<std::string>& value = (*values)[i];
      if (!value.has_value()) continue;  // expired between SCAN and MGET
      absl::StatusOr<Heartbeat> hb = DecodeHeartbeat(*value);
      if (!hb.ok()) {
        LOG_EVERY_N(WARNING, 100) << "ignoring malformed heartbeat " << candidates[i] << ": "
                                  << hb.status().message();
        continue;
      }
      absl::Status name_ok = ValidateName("heartbeat computer_name", hb->computer_name);
      if (!name_ok.ok()) {
        LOG_EVERY_N(WARNING, 100) << "ignoring heartbeat " << candidates[i] << ": "
                                  << name_ok.message();
        continue;
      }
      if (hb->computer_name == options_.self_name) continue;
      if (hb->cluster.has_value() && !ValidateName("heartbeat cluster", *hb->cluster).ok()) {
        hb->cluster.reset();  // an unusable cluster name never matches ours
      }
      peers.push_back(
          PeerInfo{std::move(hb->computer_name), std::move(hb->cluster), std::move(hb->last_seen)});
    }
  }
  // Two keys could claim the same computer_name; keep one.
  std::sort(peers.begin(), peers.end(),
            [](const PeerInfo& a, const PeerInfo& b) { return a.name < b.name; });
  peers.erase(std::unique(peers.begin(), peers.end(),
                          [](const PeerInfo& a, const PeerInfo& b) { return a.name == b.name; }),
              peers.end());
  auto snapshot =
      std::make_shared<const PeerSnapshot>(std::move(peers), options_.self_cluster, absl::Now());
  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(snapshot);
  return absl::OkStatus();
}

void PeerCache::Run() {
  do {
    absl::Status s = RefreshNow();
    if (!s.ok()) {
      LOG_EVERY_N(WARNING, 30) << "peer cache: cannot read heartbeats: " << s.message()
                               << " (keeping the previous peers)";
    }
  } while (!stop_.WaitForNotificationWithTimeout(options_.refresh));
}

}  // namespace teleclaude::mesh
