// Raises `mesh.peer.deliveries_dropped` (issue 16 "never silently"; catalog
// entry mesh.peer.deliveries_dropped): the mesh outbox tells it once when a
// peer's backlog passes --outbox_max and its oldest messages start being
// dropped (common/delivery/outbox_observer.h: one call per drop episode,
// after the round that dropped committed). It submits one local event per
// episode to the pipeline, so the operator gets ONE notification for the
// episode, not one per message; further drops of the same episode are only
// counted (telec peers, telec status, the metric
// teleclaude_egress_outbox_dropped_total).
//
// The event's input key is "drop_episode:{outbox}:{peer}:{start ms}": a
// replay of the same report has no second effect. The report lives in
// memory: if egress dies between the commit that dropped and the commit of
// this event, the episode is reported again by the next round that drops
// (the outbox's episode state is in memory too), never not at all while
// the peer keeps losing messages.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_DROP_EPISODE_NOTIFIER_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_DROP_EPISODE_NOTIFIER_H_

#include <atomic>
#include <string>
#include <string_view>

#include "common/delivery/outbox_observer.h"
#include "common/envelope/envelope.h"

namespace teleclaude::mesh {

class PipelineWorker;
struct InputEvent;

inline constexpr std::string_view kMeshPeerDeliveriesDropped = "mesh.peer.deliveries_dropped";

// The event for `episode`, raised by `self_name`.
EventEnvelope BuildDeliveriesDroppedEvent(const DropEpisode& episode, std::string_view self_name);

// Thread-safe. The worker is not owned and must outlive the notifier's use.
class DropEpisodeNotifier : public OutboxObserver {
 public:
  explicit DropEpisodeNotifier(std::string self_name) : self_name_(std::move(self_name)) {}

  // The worker the events go to. Before it is set, an episode is only
  // logged (the outbox cannot drop before the worker runs its first round).
  void SetWorker(PipelineWorker* worker) { worker_.store(worker, std::memory_order_release); }

  void OnDropEpisode(const DropEpisode& episode) override;

 private:
  static constexpr int kAttempts = 20;
  void Submit(PipelineWorker* worker, InputEvent input, int attempts_left);

  const std::string self_name_;
  std::atomic<PipelineWorker*> worker_{nullptr};
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_DROP_EPISODE_NOTIFIER_H_
