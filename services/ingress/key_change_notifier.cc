#include "services/ingress/key_change_notifier.h"

#include <utility>

#include "common/base/strings.h"
#include "common/envelope/proto_codec.h"
#include "common/json/writer.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

EventEnvelope BuildKeyChangedEvent(const MemberRecord& record, std::string_view self_name) {
  const std::string seen = Fingerprint::Of(*record.pending_public_key).ToString();
  const std::string pinned = record.fingerprint ? record.fingerprint->ToString() : "";
  EventEnvelope event;
  event.event = std::string(kMeshPeerKeyChanged);
  event.source = std::string(self_name);
  event.timestamp = Timestamp::NowUtc();
  event.level = Level::kOperational;
  event.domain = "mesh";
  event.visibility = Visibility::kLocal;
  event.entity = Cat("mesh/", record.name);
  event.description =
      Cat(record.name, " heartbeats with key ", seen, ", not its pinned ", pinned,
          "; its messages are refused. If it was re-installed or its key rotated, compare with "
          "`telec status` on it and run `telec peers trust ",
          record.name, " --fingerprint=", seen, "`");
  event.payload_json.clear();
  json::Writer w(&event.payload_json);
  w.BeginObject();
  w.Key("name").String(record.name);
  w.Key("fingerprint").String(seen);
  w.Key("pinned_fingerprint").String(pinned);
  w.EndObject();
  return event;
}

KeyChangeNotifier::KeyChangeNotifier(std::string self_name, PipelineClient* pipeline)
    : self_name_(std::move(self_name)), pipeline_(pipeline) {}

void KeyChangeNotifier::OnSnapshot(const MembershipSnapshot& snapshot) {
  v1::SubmitRequest request;
  request.set_omit_envelopes(true);
  std::vector<std::string> ids;
  {
    absl::MutexLock lock(&mu_);
    for (const MemberRecord& r : snapshot.members()) {
      if (r.state != MemberState::kKeyChanged || !r.pending_public_key.has_value()) continue;
      std::string id =
          Cat("key_changed:", r.name, ":", Fingerprint::Of(*r.pending_public_key).ToString());
      if (delivered_.contains(id)) continue;
      v1::SubmittedEvent* event = request.add_events();
      EnvelopeToProto(BuildKeyChangedEvent(r, self_name_), event->mutable_envelope());
      event->set_origin(v1::ORIGIN_LOCAL);
      event->set_message_id(id);
      ids.push_back(std::move(id));
    }
  }
  if (ids.empty()) return;
  absl::StatusOr<v1::SubmitResponse> response = pipeline_->Submit(request);
  if (!response.ok()) {
    LOG_EVERY_T(WARNING, 30) << "ingress: " << kMeshPeerKeyChanged << ": " << response.status()
                             << " (trying again with the next membership read)";
    return;
  }
  absl::MutexLock lock(&mu_);
  for (std::string& id : ids) delivered_.insert(std::move(id));
}

}  // namespace teleclaude::mesh
