#include "services/egress/delivery/local_stream_reader.h"

#include <utility>
#include <vector>

#include "common/base/strings.h"
#include "common/envelope/stream_codec.h"
#include "common/json/json_text.h"
#include "common/json/writer.h"
#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

// The local notification for an entry that does not decode.
EventEnvelope MalformedEntryEvent(const std::string& computer, const std::string& stream,
                                  const std::string& entry_id, const std::string& detail) {
  EventEnvelope e;
  e.event = "mesh.event.rejected";
  e.source = computer;
  e.level = Level::kOperational;
  e.domain = "mesh";
  e.visibility = Visibility::kLocal;
  e.description = Cat("Malformed entry ", entry_id, " on the local stream ", stream, ": ", detail);
  e.payload_json.clear();  // the default is "{}"
  json::Writer w(&e.payload_json);
  w.BeginObject();
  w.Key("source_computer").String(computer);
  w.Key("reason").String("malformed_local_entry");
  w.Key("detail").String(detail);
  w.Key("stream").String(stream);
  w.Key("entry_id").String(entry_id);
  w.EndObject();
  return e;
}

}  // namespace

LocalStreamReader::LocalStreamReader(Options options, PipelineWorker* worker)
    : options_(std::move(options)), worker_(worker) {
  ConsumerGroupReader::Options r;
  r.redis = options_.redis;
  r.stream = options_.stream;
  r.group = options_.group;
  r.consumer = options_.consumer;
  r.start_id = "0";
  r.recreate_start_id = "0";
  r.count = options_.count;
  r.block = options_.block;
  r.max_batches_in_flight = options_.max_in_flight;
  r.claim_min_idle = options_.claim_idle;
  r.claim_every = options_.claim_every;
  r.backoff_max = options_.backoff_max;
  reader_ = std::make_unique<ConsumerGroupReader>(std::move(r), this);
}

LocalStreamReader::~LocalStreamReader() { Stop(); }

void LocalStreamReader::Start() { reader_->Start(); }

void LocalStreamReader::Stop() { reader_->Stop(); }

void LocalStreamReader::HandleBatch(StreamBatch batch) {
  if (batch.origin != StreamBatch::Origin::kNew) {
    LOG(INFO) << "local stream " << options_.stream << ": processing " << batch.entries.size()
              << (batch.origin == StreamBatch::Origin::kPending ? " pending" : " claimed idle")
              << " entr(ies)";
  }
  std::vector<InputEvent> events;
  std::vector<std::string> ids;
  events.reserve(batch.entries.size());
  ids.reserve(batch.entries.size());
  for (StreamEntry& entry : batch.entries) {
    InputEvent in;
    in.origin = EventOrigin::kLocal;
    in.input_key = Cat("local:", options_.stream, ":", entry.id);
    absl::StatusOr<EventEnvelope> envelope = DecodeEnvelopeStream(std::move(entry.fields));
    if (envelope.ok()) {
      in.envelope = std::move(*envelope);
    } else {
      malformed_.fetch_add(1);
      LOG_EVERY_N(WARNING, 20) << "local stream " << options_.stream << " entry " << entry.id
                               << " does not decode (recorded as mesh.event.rejected): "
                               << envelope.status().message();
      in.envelope = MalformedEntryEvent(options_.computer_name, options_.stream, entry.id,
                                        std::string(envelope.status().message()));
    }
    events.push_back(std::move(in));
    ids.push_back(std::move(entry.id));
  }
  const uint64_t batch_id = batch.id;
  worker_->Submit(std::move(events), [this, batch_id, ids = std::move(ids)](
                                         absl::StatusOr<std::vector<InputOutcome>> out) mutable {
    // Committed: acknowledged. Failed: nothing of it happened; the entries
    // stay pending and the reader hands them over again.
    reader_->Settle(batch_id, out.ok() ? std::move(ids) : std::vector<std::string>());
  });
}

}  // namespace teleclaude::mesh
