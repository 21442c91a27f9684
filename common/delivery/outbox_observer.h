// The owner's view of an Outbox's losses (outbox.h): told once when a
// destination starts losing messages to the outbox's bound, so the owner can
// raise ONE notification per episode instead of one per message — never
// silent, never a flood.
#ifndef TELECLAUDE_MESH_COMMON_DELIVERY_OUTBOX_OBSERVER_H_
#define TELECLAUDE_MESH_COMMON_DELIVERY_OUTBOX_OBSERVER_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace teleclaude::mesh {

// A destination began to lose messages: its backlog passed the bound.
struct DropEpisode {
  std::string outbox;  // Outbox::Options::name
  std::string destination;
  int64_t dropped = 0;  // dropped by the round that started the episode
  int64_t bound = 0;    // Outbox::Options::max_per_destination
  absl::Time since;     // when the episode started (the outbox's clock)
};

class OutboxObserver {
 public:
  virtual ~OutboxObserver() = default;
  // On the writer thread, after the round that dropped committed. The
  // episode lasts until the destination's backlog is back under half the
  // bound (or it is forgotten); drops meanwhile are only counted.
  virtual void OnDropEpisode(const DropEpisode& episode) = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_DELIVERY_OUTBOX_OBSERVER_H_
