#include "services/egress/pipeline/watch_hub.h"

#include <algorithm>
#include <utility>

namespace teleclaude::mesh {

void WatchHub::Subscribe(std::shared_ptr<WatchSubscriber> subscriber) {
  absl::MutexLock lock(&mu_);
  if (subscriber->include_meta()) meta_subscribers_.fetch_add(1);
  list_.push_back(std::move(subscriber));
  subscribers_.fetch_add(1);
}

void WatchHub::Unsubscribe(const WatchSubscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  auto it = std::find_if(list_.begin(), list_.end(),
                         [subscriber](const auto& s) { return s.get() == subscriber; });
  if (it == list_.end()) return;
  if ((*it)->include_meta()) meta_subscribers_.fetch_sub(1);
  list_.erase(it);
  subscribers_.fetch_sub(1);
}

void WatchHub::Publish(const std::vector<std::shared_ptr<const v1::WatchedEvent>>& events,
                       bool meta) {
  std::vector<std::shared_ptr<WatchSubscriber>> list;
  {
    absl::MutexLock lock(&mu_);
    list = list_;
  }
  for (const auto& s : list) {
    if (meta && !s->include_meta()) continue;
    const std::string& prefix = s->type_prefix();
    for (const auto& e : events) {
      if (!prefix.empty() && e->envelope().event().compare(0, prefix.size(), prefix) != 0) {
        continue;
      }
      s->Deliver(e);
    }
  }
}

}  // namespace teleclaude::mesh
