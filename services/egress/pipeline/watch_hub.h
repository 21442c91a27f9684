// Fan-out of processed events to WatchEvents subscribers. The pipeline worker
// publishes after each commit; each subscriber has its own bounded queue (a
// slow one loses events with a counted gap, it never blocks the pipeline).
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_WATCH_HUB_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_WATCH_HUB_H_

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "teleclaude/mesh/v1/pipeline.pb.h"

namespace teleclaude::mesh {

// One subscriber. Implementations are thread-safe; Deliver() must not block.
class WatchSubscriber {
 public:
  virtual ~WatchSubscriber() = default;
  virtual const std::string& type_prefix() const = 0;
  virtual bool include_meta() const = 0;
  // Queues one event (or counts it lost when the queue is full).
  virtual void Deliver(std::shared_ptr<const v1::WatchedEvent> event) = 0;
};

// Thread-safe.
class WatchHub {
 public:
  // Keeps the last `history` published events (not the meta ones) for
  // subscribers that ask for them; 0 keeps none. With a history the worker
  // builds watched events for every batch (HasSubscribers() is true).
  explicit WatchHub(size_t history = 0) : history_capacity_(history) {}

  // Adds `subscriber`; first delivers the last `last` kept events that match
  // it (oldest first), so nothing published meanwhile is missed or doubled.
  void Subscribe(std::shared_ptr<WatchSubscriber> subscriber, size_t last = 0);
  void Unsubscribe(const WatchSubscriber* subscriber);

  bool HasSubscribers() const { return history_capacity_ > 0 || subscribers_.load() > 0; }
  size_t history_capacity() const { return history_capacity_; }
  bool HasMetaSubscribers() const { return meta_subscribers_.load() > 0; }

  // Delivers each event to every subscriber whose prefix matches (and, for
  // `meta` events — cartridge.invoked — that asked include_meta).
  void Publish(const std::vector<std::shared_ptr<const v1::WatchedEvent>>& events, bool meta);

 private:
  // Whether `subscriber` wants `event` (prefix; meta events only when asked).
  static bool Wants(const WatchSubscriber& subscriber, const v1::WatchedEvent& event, bool meta);

  const size_t history_capacity_;
  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<WatchSubscriber>> list_ ABSL_GUARDED_BY(mu_);
  std::deque<std::shared_ptr<const v1::WatchedEvent>> history_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> subscribers_{0};
  std::atomic<int> meta_subscribers_{0};
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_WATCH_HUB_H_
