// Ends delivery to a computer membership no longer remembers
// (doc/membership.md "Forget"): when a record becomes forgotten — by
// `telec peers forget NAME` or by being away longer than --peer_retention —
// the messages still waiting for it in the mesh outbox are dropped (counted as
// forgotten in Pipeline.Stats, not as bound drops) and its cursor removed, so
// nothing more is sent to its inbox. A computer that heartbeats again after
// being forgotten is a destination again for what is produced from then on.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_FORGOTTEN_PEER_SWEEPER_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_FORGOTTEN_PEER_SWEEPER_H_

#include <set>
#include <string>

#include "common/delivery/outbox.h"
#include "common/mesh/membership_view.h"

namespace teleclaude::mesh {

// Thread-compatible: OnSnapshot runs on the membership reader's thread only.
// `outbox` is not owned and outlives the reader's Stop().
class ForgottenPeerSweeper : public MembershipListener {
 public:
  explicit ForgottenPeerSweeper(Outbox* outbox) : outbox_(outbox) {}

  // Forgets, in the outbox, each computer that turned forgotten since the
  // last snapshot (every forgotten one at the first).
  void OnSnapshot(const MembershipSnapshot& snapshot) override;

 private:
  Outbox* const outbox_;
  std::set<std::string, std::less<>> forgotten_;  // already forgotten in the outbox
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_FORGOTTEN_PEER_SWEEPER_H_
