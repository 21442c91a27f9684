#include "services/egress/delivery/drop_episode_notifier.h"

#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/base/strings.h"
#include "common/json/writer.h"
#include "glog/logging.h"
#include "services/egress/pipeline/pipeline_worker.h"

namespace teleclaude::mesh {

EventEnvelope BuildDeliveriesDroppedEvent(const DropEpisode& episode, std::string_view self_name) {
  const std::string since = absl::FormatTime(absl::RFC3339_sec, episode.since, absl::UTCTimeZone());
  EventEnvelope event;
  event.event = std::string(kMeshPeerDeliveriesDropped);
  event.source = std::string(self_name);
  event.timestamp = Timestamp::NowUtc();
  event.level = Level::kOperational;
  event.domain = "mesh";
  event.visibility = Visibility::kLocal;
  event.entity = Cat("mesh/", episode.destination);
  event.description =
      Cat("messages for ", episode.destination, " are being dropped since ", since, ": more than ",
          episode.bound,
          " waited for it (--outbox_max); the oldest go first. `telec peers` counts "
          "them; it ends when ",
          episode.destination, " drains its backlog, or at once with `telec peers forget ",
          episode.destination, "`");
  event.payload_json.clear();
  json::Writer w(&event.payload_json);
  w.BeginObject();
  w.Key("peer").String(episode.destination);
  w.Key("outbox").String(episode.outbox);
  w.Key("since").String(since);
  w.Key("dropped").Int(episode.dropped);
  w.Key("bound").Int(episode.bound);
  w.EndObject();
  return event;
}

void DropEpisodeNotifier::OnDropEpisode(const DropEpisode& episode) {
  LOG(WARNING) << "outbox " << episode.outbox << ": dropping messages for " << episode.destination
               << " (more than " << episode.bound << " waiting; the oldest go first)";
  PipelineWorker* worker = worker_.load(std::memory_order_acquire);
  if (worker == nullptr) return;
  InputEvent input;
  input.envelope = BuildDeliveriesDroppedEvent(episode, self_name_);
  input.origin = EventOrigin::kLocal;
  input.source_computer = self_name_;
  input.input_key = Cat("drop_episode:", episode.outbox, ":", episode.destination, ":",
                        absl::ToUnixMillis(episode.since));
  Submit(worker, std::move(input), kAttempts);
}

void DropEpisodeNotifier::Submit(PipelineWorker* worker, InputEvent input, int attempts_left) {
  // A failed batch (the database failing, e.g. a full disk) is retried: the
  // worker paces its rounds after a failure (50 ms doubling to 5 s), so the
  // attempts span minutes. After Stop() every Submit fails at once: the
  // attempts are bounded so that ends.
  std::vector<InputEvent> events;
  events.push_back(input);
  worker->Submit(std::move(events), [this, worker, input = std::move(input), attempts_left](
                                        absl::StatusOr<std::vector<InputOutcome>> outcomes) {
    if (outcomes.ok()) return;
    if (attempts_left > 1) {
      Submit(worker, input, attempts_left - 1);
      return;
    }
    LOG(WARNING) << kMeshPeerDeliveriesDropped << " (" << input.input_key
                 << ") not recorded: " << outcomes.status();
  });
}

}  // namespace teleclaude::mesh
