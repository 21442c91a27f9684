#include "services/egress/delivery/forgotten_peer_sweeper.h"

namespace teleclaude::mesh {

void ForgottenPeerSweeper::OnSnapshot(const MembershipSnapshot& snapshot) {
  for (const MemberRecord& record : snapshot.members()) {
    if (MembershipSnapshot::IsRemembered(record)) {
      forgotten_.erase(record.name);
    } else if (forgotten_.insert(record.name).second) {
      outbox_->Forget(record.name);
    }
  }
}

}  // namespace teleclaude::mesh
