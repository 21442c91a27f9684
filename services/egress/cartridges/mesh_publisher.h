// `mesh-publisher` (DESIGN §1, §3.3, §4): routes an event to peers by its
// visibility — `local` nowhere, `cluster` to the remembered peers of this
// computer's cluster (none without a cluster), `public` to every remembered
// peer (live, or away within --peer_retention: the destinations come from
// membership, doc/membership.md) — never to this computer, never an event
// that came from the mesh (origin mesh or `payload._mesh_source` set), never
// `cartridge.invoked`. It does not talk to Redis: each event becomes one row
// of the mesh outbox (the delivery core's per-destination Outbox,
// common/delivery/outbox.h) for all its peers (the body stored once) in the
// batch transaction; the message id to a peer is derived from the event's
// input key and the peer, so an event replayed after a crash carries the same
// id. The outbox's sender XADDs the messages after commit, each peer at its
// own pace (common/delivery/outbox_sender.h, delivery/mesh_sender.h).
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_MESH_PUBLISHER_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_MESH_PUBLISHER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/cartridge/system_cartridges.h"
#include "common/delivery/outbox.h"
#include "common/mesh/membership_view.h"
#include "services/egress/cartridges/cartridge.h"

namespace teleclaude::mesh {

// Thread-compatible (the pipeline worker's thread). `membership` and
// `outbox` are not owned.
class MeshPublisher : public Cartridge {
 public:
  struct Options {
    std::string self_name;  // the message ids' prefix
  };

  MeshPublisher(Options options, const MembershipView* membership, Outbox* outbox)
      : options_(std::move(options)), membership_(membership), outbox_(outbox) {}

  std::string_view Name() const override { return kMeshPublisherCartridge; }
  // Always kContinue; errors are events.db errors.
  absl::StatusOr<Verdict> Process(EventEnvelope& event, CartridgeContext& context) override;

  static std::string MessageIdPrefix(std::string_view self, std::string_view input_key);

  // Outbox deliveries (event x peer) written since the last call (the
  // worker's estimate of a batch's fan-out, for back-pressure).
  int64_t TakeDeliveriesAdded() { return std::exchange(deliveries_added_, 0); }

 private:
  const Options options_;
  const MembershipView* const membership_;
  Outbox* const outbox_;
  int64_t deliveries_added_ = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_MESH_PUBLISHER_H_
