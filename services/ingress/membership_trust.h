// Trust by mesh membership (--trust_mode, DESIGN §6, doc/ingress.md "Trust
// gate", doc/membership.md): the first stage of the trust gate. A sender is
// judged by its membership record — what this computer remembers of it —
// not by whether its heartbeat is there this instant: a peer whose ingress
// restarts (heartbeat lapsed, or "stopping") is still the peer it was, for
// --peer_retention. The record is read from membership's latest snapshot,
// never from Redis per event. A sender the snapshot does not trust may have
// come up since the last refresh: before refusing it membership is
// refreshed, at most once per Options::refresh_on_miss_every (so a flood
// from an unknown sender costs at most that many Redis reads).
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_MEMBERSHIP_TRUST_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_MEMBERSHIP_TRUST_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "common/config/config.h"
#include "common/mesh/membership_view.h"
#include "services/ingress/trust_evaluator.h"

namespace teleclaude::mesh {

// Accepts an event when its sender is a member under the configured mode,
// rejects it (reason "untrusted") otherwise:
//   kCluster   — the sender's record is remembered (live, or away within
//                --peer_retention) and its last heartbeat declared this
//                computer's non-empty cluster (a computer without a cluster
//                trusts nobody in this mode);
//   kMesh      — the sender's record is remembered;
//   kAllowlist — the sender is named in --trusted_peers (no record needed:
//                the list is an explicit decision).
// Forgotten and key_changed records are not members. Thread-safe (the view
// is).
class MembershipTrust : public TrustEvaluator {
 public:
  struct Options {
    TrustMode mode = TrustMode::kCluster;
    std::optional<std::string> self_cluster;
    std::vector<std::string> trusted_peers;  // for kAllowlist
    absl::Duration refresh_on_miss_every = absl::Milliseconds(50);
    // Refresh the view before refusing a sender (ingress: yes; a test of
    // the rules alone: no).
    bool refresh_on_miss = true;
  };

  // `membership` is not owned and must outlive this object.
  MembershipTrust(Options options, MembershipView* membership);

  TrustDecision Evaluate(const EventEnvelope& envelope,
                         std::string_view source_computer) const override;

  // Whether `computer` is a member in `snapshot` under the mode.
  bool IsMember(std::string_view computer, const MembershipSnapshot& snapshot) const;
  // The same with the current snapshot (never refreshed: the strictness
  // stage asks this about envelope sources, which are mostly not computers).
  bool IsMember(std::string_view computer) const;

 private:
  // Why `computer` is not a member (for the rejection's detail).
  std::string WhyNot(std::string_view computer, const MembershipSnapshot& snapshot) const;

  // A freshly read snapshot when a refresh is due (none within
  // refresh_on_miss_every, and the mode depends on membership); null when
  // not due or membership cannot be read.
  std::shared_ptr<const MembershipSnapshot> RefreshIfDue() const;

  const Options options_;
  const std::set<std::string, std::less<>> allow_;
  MembershipView* const membership_;
  // absl::ToUnixNanos of the last refresh on a miss.
  mutable std::atomic<int64_t> last_refresh_ns_{0};
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_MEMBERSHIP_TRUST_H_
