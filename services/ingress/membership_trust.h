// Trust by mesh membership (--trust_mode, DESIGN §6, doc/ingress.md): the
// first stage of the trust gate. Whether the sender is a peer we trust is
// read from the peer cache's latest snapshot (refreshed in the background),
// never from Redis per event.
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_MEMBERSHIP_TRUST_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_MEMBERSHIP_TRUST_H_

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

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
// Thread-safe (immutable after construction; the snapshot source must be
// thread-safe, as PeerCache::Snapshot is).
class MembershipTrust : public TrustEvaluator {
 public:
  using SnapshotSource = std::function<std::shared_ptr<const PeerSnapshot>()>;

  struct Options {
    TrustMode mode = TrustMode::kCluster;
    std::optional<std::string> self_cluster;
    std::vector<std::string> trusted_peers;  // for kAllowlist
  };

  // REQUIRES: `snapshots` returns a non-null snapshot.
  MembershipTrust(Options options, SnapshotSource snapshots);

  TrustDecision Evaluate(const EventEnvelope& envelope,
                         std::string_view source_computer) const override;

  // Whether `computer` is a member in `snapshot` under the mode.
  bool IsMember(std::string_view computer, const PeerSnapshot& snapshot) const;
  // The same with the current snapshot.
  bool IsMember(std::string_view computer) const;

 private:
  // Why `computer` is not a member (for the rejection's detail).
  std::string WhyNot(std::string_view computer, const PeerSnapshot& snapshot) const;

  const Options options_;
  const std::set<std::string, std::less<>> allow_;
  const SnapshotSource snapshots_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_MEMBERSHIP_TRUST_H_
