// `mesh-publisher` (DESIGN §1, §3.3, §4): routes an event to peers by its
// visibility — `local` nowhere, `cluster` to live peers of this computer's
// cluster (none without a cluster), `public` to every live peer — never to
// this computer, never an event that came from the mesh (origin mesh or
// `payload._mesh_source` set), never `cartridge.invoked`. It does not talk to
// Redis: each (event, peer) becomes an outbox row in the batch transaction,
// with a message id derived from the event's input key and the peer, so an
// event replayed after a crash carries the same id. The mesh sender XADDs the
// rows after commit (outbox_sender.h).
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_MESH_PUBLISHER_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_MESH_PUBLISHER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/mesh/peer_cache.h"
#include "services/egress/cartridge.h"
#include "services/egress/events_db.h"

namespace teleclaude::mesh {

// Thread-compatible (the pipeline worker's thread). `db` is not owned.
class MeshPublisher : public Cartridge {
 public:
  struct Options {
    std::string self_name;
    std::optional<std::string> self_cluster;
  };
  // The current peers (e.g. PeerCache::Snapshot); never returns null.
  using PeersFn = std::function<std::shared_ptr<const PeerSnapshot>()>;

  MeshPublisher(Options options, PeersFn peers, EventsDb* db)
      : options_(std::move(options)), peers_(std::move(peers)), db_(db) {}

  std::string_view Name() const override { return "mesh-publisher"; }
  // Always kContinue; errors are events.db errors.
  absl::StatusOr<Verdict> Process(EventEnvelope& event, CartridgeContext& context) override;

  // The message id of `input_key`'s event sent to `peer` (doc/wire.md).
  static std::string MessageId(std::string_view self, std::string_view input_key,
                               std::string_view peer);

  // Outbox rows written since the last call.
  int64_t TakeRowsAdded() { return std::exchange(rows_added_, 0); }

 private:
  const Options options_;
  const PeersFn peers_;
  EventsDb* const db_;
  int64_t rows_added_ = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_MESH_PUBLISHER_H_
