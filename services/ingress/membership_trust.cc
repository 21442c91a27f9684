#include "services/ingress/membership_trust.h"

#include <utility>

#include "absl/strings/str_join.h"
#include "common/base/strings.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

MembershipTrust::MembershipTrust(Options options, MembershipView* membership)
    : options_(std::move(options)),
      allow_(options_.trusted_peers.begin(), options_.trusted_peers.end()),
      membership_(membership) {
  CHECK(membership_ != nullptr);
}

std::shared_ptr<const MembershipSnapshot> MembershipTrust::RefreshIfDue() const {
  // The allowlist does not depend on membership.
  if (!options_.refresh_on_miss || options_.mode == TrustMode::kAllowlist) return nullptr;
  const int64_t now = absl::ToUnixNanos(absl::Now());
  int64_t last = last_refresh_ns_.load();
  if (now - last < absl::ToInt64Nanoseconds(options_.refresh_on_miss_every) ||
      !last_refresh_ns_.compare_exchange_strong(last, now)) {
    return nullptr;  // refreshed recently (or another caller is doing it now)
  }
  return membership_->Refresh();
}

bool MembershipTrust::IsMember(std::string_view computer,
                               const MembershipSnapshot& snapshot) const {
  if (options_.mode == TrustMode::kAllowlist) return allow_.find(computer) != allow_.end();
  const MemberRecord* record = snapshot.Find(computer);
  if (record == nullptr || !MembershipSnapshot::IsRemembered(*record)) return false;
  if (options_.mode == TrustMode::kMesh) return true;
  return options_.self_cluster.has_value() && !options_.self_cluster->empty() &&
         snapshot.IsClusterPeer(*record);
}

bool MembershipTrust::IsMember(std::string_view computer) const {
  std::shared_ptr<const MembershipSnapshot> snapshot = membership_->Snapshot();
  return IsMember(computer, *snapshot);
}

std::string MembershipTrust::WhyNot(std::string_view computer,
                                    const MembershipSnapshot& snapshot) const {
  const std::string mode = Cat("trust_mode=", TrustModeName(options_.mode));
  if (options_.mode == TrustMode::kAllowlist) {
    return Cat(computer, " is not in --trusted_peers (", absl::StrJoin(options_.trusted_peers, ","),
               "); add it there to trust it (", mode, ")");
  }
  if (options_.mode == TrustMode::kCluster &&
      (!options_.self_cluster.has_value() || options_.self_cluster->empty())) {
    return Cat("this computer has no --cluster, so no sender is a cluster peer (", computer,
               " refused; ", mode, ")");
  }
  const MemberRecord* record = snapshot.Find(computer);
  if (record == nullptr) {
    return Cat(computer, " is not a known computer: no heartbeat of it has been read (", mode, ")");
  }
  switch (record->state) {
    case MemberState::kForgotten:
      if (record->forgotten_by == ForgottenBy::kPerson) {
        return Cat(computer,
                   " was forgotten (telec peers forget); it is known again once it heartbeats (",
                   mode, ")");
      }
      return Cat(computer, " has been away longer than --peer_retention=",
                 absl::FormatDuration(snapshot.self().retention),
                 "; it is known again once it heartbeats (", mode, ")");
    case MemberState::kKeyChanged:
      return Cat(computer, " heartbeats with a key other than the one pinned for it (", mode, ")");
    case MemberState::kLive:
    case MemberState::kAway:
      break;
  }
  if (record->cluster.has_value() && !record->verified) {
    return Cat(computer, " declares cluster ", *record->cluster,
               " in a heartbeat not signed by a pinned key; only signed heartbeats announce a "
               "cluster (",
               mode, ")");
  }
  return Cat(computer, " declares cluster ", record->cluster.value_or("(none)"),
             ", not this computer's ", *options_.self_cluster, " (", mode, ")");
}

TrustDecision MembershipTrust::Evaluate(const EventEnvelope& /*envelope*/,
                                        std::string_view source_computer) const {
  std::shared_ptr<const MembershipSnapshot> snapshot = membership_->Snapshot();
  if (IsMember(source_computer, *snapshot)) return TrustDecision::Accept();
  // Not trusted by the snapshot: it may have come up since the last refresh.
  if (std::shared_ptr<const MembershipSnapshot> fresh = RefreshIfDue(); fresh != nullptr) {
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
