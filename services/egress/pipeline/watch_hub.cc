#include "services/egress/pipeline/watch_hub.h"

#include <algorithm>
#include <utility>

namespace teleclaude::mesh {

void WatchHub::Subscribe(std::shared_ptr<WatchSubscriber> subscriber, size_t last) {
  absl::MutexLock lock(&mu_);
  if (last > 0) {
    // Under mu_: a Publish either put its events in history_ before this
    // (and did not see the subscriber) or delivers them after this.
    std::vector<std::shared_ptr<const v1::WatchedEvent>> picked;
    for (auto it = history_.rbegin(); it != history_.rend() && picked.size() < last; ++it) {
      if (Wants(*subscriber, **it, /*meta=*/false)) picked.push_back(*it);
    }
    for (auto it = picked.rbegin(); it != picked.rend(); ++it) subscriber->Deliver(*it);
  }
  if (subscriber->include_meta()) meta_subscribers_.fetch_add(1);
  list_.push_back(std::move(subscriber));
  subscribers_.fetch_add(1);
}

bool WatchHub::Wants(const WatchSubscriber& subscriber, const v1::WatchedEvent& event, bool meta) {
  if (meta && !subscriber.include_meta()) return false;
  const std::string& prefix = subscriber.type_prefix();
  return prefix.empty() || event.envelope().event().compare(0, prefix.size(), prefix) == 0;
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
    if (history_capacity_ > 0 && !meta) {
      for (const auto& e : events) history_.push_back(e);
      while (history_.size() > history_capacity_) history_.pop_front();
    }
    list = list_;
  }
  for (const auto& s : list) {
    for (const auto& e : events) {
      if (Wants(*s, *e, meta)) s->Deliver(e);
    }
  }
}

}  // namespace teleclaude::mesh
