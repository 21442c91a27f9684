// Trust by mesh membership (--trust_mode, DESIGN §6, doc/ingress.md): the
// first stage of the trust gate. Whether the sender is a peer we trust is
// read from the peer cache's latest snapshot (refreshed in the background),
// never from Redis per event. A sender the snapshot does not trust may have
// come up since the last refresh: before refusing it the heartbeats are read
// again, at most once per Options::refresh_on_miss_every (so a flood from an
// untrusted sender costs at most that many Redis reads).
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_MEMBERSHIP_TRUST_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_MEMBERSHIP_TRUST_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "common/config/config.h"
#include "common/mesh/peer_cache.h"
#include "services/ingress/trust_evaluator.h"

namespace teleclaude::mesh {

// Accepts an event when its sender is a member under the configured mode,
// rejects it (reason "untrusted") otherwise:
//   kCluster   — the sender has a live heartbeat declaring the same non-empty
//                cluster as this computer (a computer without a cluster
//                trusts nobody in this mode);
//   kMesh      — the sender has a live heartbeat;
//   kAllowlist — the sender is named in --trusted_peers (liveness is not
//                required: the list is an explicit decision).
// Thread-safe (the snapshot source and refresher must be thread-safe, as
// PeerCache is).
class MembershipTrust : public TrustEvaluator {
 public:
  using SnapshotSource = std::function<std::shared_ptr<const PeerSnapshot>()>;
  // Reads the heartbeats now and returns the new snapshot; null when they
  // cannot be read (the caller keeps the one it has).
  using Refresher = std::function<std::shared_ptr<const PeerSnapshot>()>;

  struct Options {
    TrustMode mode = TrustMode::kCluster;
    std::optional<std::string> self_cluster;
    std::vector<std::string> trusted_peers;  // for kAllowlist
    absl::Duration refresh_on_miss_every = absl::Milliseconds(50);
  };

  // REQUIRES: `snapshots` returns a non-null snapshot. `refresh` may be
  // empty (no re-read before a refusal).
  MembershipTrust(Options options, SnapshotSource snapshots, Refresher refresh = nullptr);

  TrustDecision Evaluate(const EventEnvelope& envelope,
                         std::string_view source_computer) const override;

  // Whether `computer` is a member in `snapshot` under the mode.
  bool IsMember(std::string_view computer, const PeerSnapshot& snapshot) const;
  // The same with the current snapshot (never re-read: the strictness stage
  // asks this about envelope sources, which are mostly not computers).
  bool IsMember(std::string_view computer) const;

 private:
  // Why `computer` is not a member (for the rejection's detail).
  std::string WhyNot(std::string_view computer, const PeerSnapshot& snapshot) const;

  // A freshly read snapshot when a re-read is due (none within
  // refresh_on_miss_every, and the mode depends on heartbeats); null when
  // not due or the heartbeats cannot be read.
  std::shared_ptr<const PeerSnapshot> ReReadIfDue() const;

  const Options options_;
  const std::set<std::string, std::less<>> allow_;
  const SnapshotSource snapshots_;
  const Refresher refresh_;
  // absl::ToUnixNanos of the last re-read on a miss.
  mutable std::atomic<int64_t> last_refresh_ns_{0};
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_MEMBERSHIP_TRUST_H_
