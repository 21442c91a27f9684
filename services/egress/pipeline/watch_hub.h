// Fan-out of processed events to WatchEvents subscribers. The pipeline worker
// publishes after each commit; each subscriber has its own bounded queue (a
// slow one loses events with a counted gap, it never blocks the pipeline).
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_WATCH_HUB_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_WATCH_HUB_H_

#include <atomic>
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
  void Subscribe(std::shared_ptr<WatchSubscriber> subscriber);
  void Unsubscribe(const WatchSubscriber* subscriber);

  bool HasSubscribers() const { return subscribers_.load() > 0; }
  bool HasMetaSubscribers() const { return meta_subscribers_.load() > 0; }

  // Delivers each event to every subscriber whose prefix matches (and, for
  // `meta` events — cartridge.invoked — that asked include_meta).
  void Publish(const std::vector<std::shared_ptr<const v1::WatchedEvent>>& events, bool meta);

 private:
  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<WatchSubscriber>> list_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> subscribers_{0};
  std::atomic<int> meta_subscribers_{0};
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_WATCH_HUB_H_
