#include "common/mesh/membership_snapshot.h"

#include <algorithm>
#include <utility>

namespace teleclaude::mesh {

MembershipSnapshot::MembershipSnapshot(std::vector<MemberRecord> records, Self self,
                                       absl::Time as_of)
    : members_(std::move(records)), self_(std::move(self)), as_of_(as_of) {
  if (self_.cluster.has_value() && self_.cluster->empty()) self_.cluster.reset();
  std::erase_if(members_, [this](const MemberRecord& r) { return r.name == self_.name; });
  for (MemberRecord& r : members_) {
    if (RetentionOver(r, as_of_, self_.retention)) {
      r.state = MemberState::kForgotten;
      r.state_since = r.last_seen + self_.retention;
      r.forgotten_by = ForgottenBy::kRetention;
    }
  }
  std::sort(members_.begin(), members_.end(),
            [](const MemberRecord& a, const MemberRecord& b) { return a.name < b.name; });
}

const MemberRecord* MembershipSnapshot::Find(std::string_view name) const {
  auto it = std::lower_bound(members_.begin(), members_.end(), name,
                             [](const MemberRecord& r, std::string_view n) { return r.name < n; });
  if (it == members_.end() || it->name != name) return nullptr;
  return &*it;
}

bool MembershipSnapshot::IsRemembered(const MemberRecord& record) {
  return record.state == MemberState::kLive || record.state == MemberState::kAway;
}

bool MembershipSnapshot::IsClusterPeer(const MemberRecord& record) const {
  // Only a signed heartbeat by the pinned key announces a cluster
  // (doc/security.md §10.1): an unsigned one (a Python peer, which sends
  // none, or a forgery) or one held by --trusted_keys never does.
  return record.verified && record.public_key.has_value() && self_.cluster.has_value() &&
         record.cluster.has_value() && *record.cluster == *self_.cluster;
}

std::vector<std::string_view> MembershipSnapshot::Destinations(Visibility visibility) const {
  std::vector<std::string_view> out;
  if (visibility == Visibility::kLocal) return out;
  for (const MemberRecord& r : members_) {
    if (!IsRemembered(r)) continue;
    if (visibility == Visibility::kPublic || IsClusterPeer(r)) out.push_back(r.name);
  }
  return out;
}

int MembershipSnapshot::Count(MemberState state) const {
  return static_cast<int>(
      std::count_if(members_.begin(), members_.end(),
                    [state](const MemberRecord& r) { return r.state == state; }));
}

}  // namespace teleclaude::mesh
