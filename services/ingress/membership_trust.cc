#include "services/ingress/membership_trust.h"

#include <utility>

#include "absl/strings/str_join.h"
#include "common/base/strings.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

MembershipTrust::MembershipTrust(Options options, SnapshotSource snapshots, Refresher refresh)
    : options_(std::move(options)),
      allow_(options_.trusted_peers.begin(), options_.trusted_peers.end()),
      snapshots_(std::move(snapshots)),
      refresh_(std::move(refresh)) {
  CHECK(snapshots_ != nullptr);
}

std::shared_ptr<const PeerSnapshot> MembershipTrust::ReReadIfDue() const {
  // The allowlist does not depend on heartbeats.
  if (refresh_ == nullptr || options_.mode == TrustMode::kAllowlist) return nullptr;
  const int64_t now = absl::ToUnixNanos(absl::Now());
  int64_t last = last_refresh_ns_.load();
  if (now - last < absl::ToInt64Nanoseconds(options_.refresh_on_miss_every) ||
      !last_refresh_ns_.compare_exchange_strong(last, now)) {
    return nullptr;  // re-read recently (or another caller is doing it now)
  }
  return refresh_();
}

bool MembershipTrust::IsMember(std::string_view computer, const PeerSnapshot& snapshot) const {
  switch (options_.mode) {
    case TrustMode::kAllowlist:
      return allow_.find(computer) != allow_.end();
    case TrustMode::kMesh:
      return snapshot.Find(computer) != nullptr;
    case TrustMode::kCluster: {
      if (!options_.self_cluster.has_value() || options_.self_cluster->empty()) return false;
      const PeerInfo* peer = snapshot.Find(computer);
      return peer != nullptr && peer->cluster.has_value() &&
             *peer->cluster == *options_.self_cluster;
    }
  }
  return false;
}

bool MembershipTrust::IsMember(std::string_view computer) const {
  std::shared_ptr<const PeerSnapshot> snapshot = snapshots_();
  return IsMember(computer, *snapshot);
}

std::string MembershipTrust::WhyNot(std::string_view computer, const PeerSnapshot& snapshot) const {
  switch (options_.mode) {
    case TrustMode::kAllowlist:
      return Cat(computer, " is not in --trusted_peers (",
                 absl::StrJoin(options_.trusted_peers, ","),
                 "); add it there to trust it (trust_mode=allowlist)");
    case TrustMode::kMesh:
      return Cat(computer,
                 " has no live heartbeat; only live mesh peers are trusted "
                 "(trust_mode=mesh)");
    case TrustMode::kCluster: {
      if (!options_.self_cluster.has_value() || options_.self_cluster->empty()) {
        return Cat("this computer has no --cluster, so no sender is a cluster peer (", computer,
                   " refused; trust_mode=cluster)");
      }
      const PeerInfo* peer = snapshot.Find(computer);
      if (peer == nullptr) {
        return Cat(computer, " has no live heartbeat (trust_mode=cluster, cluster ",
                   *options_.self_cluster, ")");
      }
      return Cat(computer, " declares cluster ",
                 peer->cluster.has_value() ? *peer->cluster : "(none)", ", not this computer's ",
                 *options_.self_cluster, " (trust_mode=cluster)");
    }
  }
  return "untrusted";
}

TrustDecision MembershipTrust::Evaluate(const EventEnvelope& /*envelope*/,
                                        std::string_view source_computer) const {
  std::shared_ptr<const PeerSnapshot> snapshot = snapshots_();
  if (IsMember(source_computer, *snapshot)) return TrustDecision::Accept();
  // Not trusted by the snapshot: it may have come up since the last refresh.
  if (std::shared_ptr<const PeerSnapshot> fresh = ReReadIfDue(); fresh != nullptr) {
    snapshot = std::move(fresh);
    if (IsMember(source_computer, *snapshot)) return TrustDecision::Accept();
  }
  TrustDecision decision;
  decision.outcome = TrustOutcome::kReject;
  decision.reason = "untrusted";
  decision.detail = WhyNot(source_computer, *snapshot);
  return decision;
}

}  // namespace teleclaude::mesh
