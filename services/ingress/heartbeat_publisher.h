// Keeps this computer's heartbeat alive (DESIGN §3.4, doc/ingress.md
// "Heartbeat"): SETEX computer:{name}:heartbeat every `interval` with TTL
// `ttl`, value = common/mesh heartbeat JSON, signed by this computer's
// identity key (doc/security.md §4.3). On Stop() it writes a last
// heartbeat with `state: "stopping"` (same TTL) instead of deleting the key:
// our peers record us as away — still a destination, still trusted by our
// record (doc/membership.md) — and Python peers, which see any heartbeat as
// live, keep forwarding into our inbox, where the next start reads it.
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_HEARTBEAT_PUBLISHER_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_HEARTBEAT_PUBLISHER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/mesh/heartbeat.h"
#include "common/redis/redis_client.h"

namespace teleclaude::mesh {

// Thread-safe: Start/Stop/PublishNow/published may be called from any thread.
// Owns its Redis connection (used by its thread, and by Stop() after the
// thread has ended).
class HeartbeatPublisher {
 public:
  struct Options {
    RedisClientOptions redis;
    std::string computer_name;
    std::optional<std::string> cluster;  // nullopt = none (omitted)
    absl::Duration interval = absl::Seconds(30);
    absl::Duration ttl = absl::Seconds(60);
    // When set, the first SETEX waits until it returns true (polled every
    // 50 ms): ingress announces itself only once its consumer group exists,
    // so nothing a peer forwards is missed.
    std::function<bool()> ready;
    // Signs every heartbeat (doc/security.md §4.3); not owned, must outlive
    // the publisher. Null: unsigned (tests of the Python form only).
    const IdentityKey* identity = nullptr;
  };

  explicit HeartbeatPublisher(Options options);
  ~HeartbeatPublisher();  // Stop()
  HeartbeatPublisher(const HeartbeatPublisher&) = delete;
  HeartbeatPublisher& operator=(const HeartbeatPublisher&) = delete;

  // Starts the thread; the first SETEX happens at once. When Redis is down
  // the publisher tries again at the next interval and logs (rate-limited).
  void Start();
  // Stops the thread and writes the "stopping" heartbeat (one attempt; a
  // failure is logged and the running one expires by its TTL). Idempotent.
  void Stop();
  // For a process that failed to start: stops the thread and deletes the
  // key (it never was a working computer; peers need not remember it).
  // Idempotent, and Stop() after it does nothing.
  void Withdraw();

  // How many SETEX calls succeeded so far.
  int64_t published() const { return published_.load(); }

 private:
  void Run();
  void StopAnd(bool withdraw);
  absl::Status PublishOnce(HeartbeatState state);

  const Options options_;
  const std::string key_;
  std::unique_ptr<RedisClient> redis_;  // the thread's, then Stop()'s
  absl::Notification stop_;
  std::thread thread_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<int64_t> published_{0};
  std::atomic<bool> last_failed_{false};
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_HEARTBEAT_PUBLISHER_H_
