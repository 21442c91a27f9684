// Peer discovery (DESIGN §3.4): a background thread reads every
// `computer:*:heartbeat` key about once per refresh interval (SCAN + MGET,
// one round trip per SCAN page) and publishes an immutable snapshot. The
// pipeline and the trust gate read the snapshot; nothing scans Redis per
// event. A peer is a live heartbeat other than this computer's own.
#ifndef TELECLAUDE_MESH_COMMON_MESH_PEER_CACHE_H_
#define TELECLAUDE_MESH_COMMON_MESH_PEER_CACHE_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/redis/redis_client.h"

namespace teleclaude::mesh {

struct PeerInfo {
  std::string name;
  std::optional<std::string> cluster;  // nullopt = none (all Python peers)
  std::string last_seen;

  friend bool operator==(const PeerInfo&, const PeerInfo&) = default;
};

// The peers seen by one refresh, sorted by name. Immutable; thread-safe.
class PeerSnapshot {
 public:
  PeerSnapshot() = default;
  PeerSnapshot(std::vector<PeerInfo> peers, std::optional<std::string> self_cluster,
               absl::Time refreshed_at);

  const std::vector<PeerInfo>& peers() const { return peers_; }
  // Peers whose cluster equals this computer's (none when it has no cluster).
  std::vector<const PeerInfo*> ClusterPeers() const;
  // The live peer of that name, or nullptr.
  const PeerInfo* Find(std::string_view name) const;
  bool IsClusterPeer(const PeerInfo& peer) const;
  // When the snapshot was read; InfinitePast() before the first refresh.
  absl::Time refreshed_at() const { return refreshed_at_; }

 private:
  std::vector<PeerInfo> peers_;
  std::optional<std::string> self_cluster_;
  absl::Time refreshed_at_ = absl::InfinitePast();
};

// Thread-safe. Owns its Redis connection and refresh thread.
class PeerCache {
 public:
  struct Options {
    RedisClientOptions redis;
    std::string self_name;
    std::optional<std::string> self_cluster;
    absl::Duration refresh = absl::Seconds(1);
  };

  explicit PeerCache(Options options);
  ~PeerCache();  // stops the thread
  PeerCache(const PeerCache&) = delete;
  PeerCache& operator=(const PeerCache&) = delete;

  // Starts the background refresh (the first refresh runs at once).
  void Start();
  // Stops it; idempotent.
  void Stop();

  // Reads the heartbeats now (on the calling thread) and publishes the
  // snapshot. Malformed heartbeats and invalid peer names are skipped with a
  // rate-limited warning. UNAVAILABLE when Redis cannot be read: the previous
  // snapshot stays.
  absl::Status RefreshNow();

  // The latest snapshot (never null).
  std::shared_ptr<const PeerSnapshot> Snapshot() const;

  const std::string& self_name() const { return options_.self_name; }
  const std::optional<std::string>& self_cluster() const { return options_.self_cluster; }

 private:
  void Run();

  const Options options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const PeerSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  absl::Mutex redis_mu_;  // serialises RefreshNow callers on the one client
  std::unique_ptr<RedisClient> redis_ ABSL_GUARDED_BY(redis_mu_);
  absl::Notification stop_;
  std::thread thread_;
  std::atomic<bool> started_{false};
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_MESH_PEER_CACHE_H_
