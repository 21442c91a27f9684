#include "services/egress/delivery/local_stream_reader.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
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
    : options_(std::move(options)), worker_(worker) {}

LocalStreamReader::~LocalStreamReader() { Stop(); }

void LocalStreamReader::Start() {
  thread_ = std::thread([this] { Run(); });
}

void LocalStreamReader::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool LocalStreamReader::Setup(RedisClient& redis) {
  absl::Status s = redis.XGroupCreate(options_.stream, options_.group, "0", /*mkstream=*/true);
  if (!s.ok()) {
    LOG_EVERY_N(WARNING, 20) << "local stream " << options_.stream
                             << ": cannot create consumer group: " << s.message();
    return false;
  }
  return true;
}

void LocalStreamReader::WaitInFlightBelow(int limit) {
  absl::MutexLock lock(&mu_);
  auto below = [this, limit]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_flight_ < limit; };
  mu_.Await(absl::Condition(&below));
}

void LocalStreamReader::AckCompleted(RedisClient& redis) {
  std::vector<std::string> ids;
  {
    absl::MutexLock lock(&mu_);
    ids.swap(to_ack_);
  }
  if (ids.empty()) return;
  absl::StatusOr<int64_t> n = redis.XAck(options_.stream, options_.group, ids);
  if (!n.ok()) {
    // Not acked: the entries stay pending and come back (as duplicates of
    // committed inputs: no second effect) after a restart.
    LOG_EVERY_N(WARNING, 20) << "XACK " << options_.stream << ": " << n.status().message();
    absl::MutexLock lock(&mu_);
    to_ack_.insert(to_ack_.end(), ids.begin(), ids.end());
    return;
  }
  entries_acked_.fetch_add(static_cast<int64_t>(ids.size()));
}

void LocalStreamReader::SubmitEntries(RedisClient& /*redis*/, std::vector<StreamEntry> entries) {
  std::vector<InputEvent> events;
  std::vector<std::string> ids;
  std::vector<std::string> empty_ids;
  events.reserve(entries.size());
  ids.reserve(entries.size());
  for (StreamEntry& entry : entries) {
    if (entry.fields.empty()) {
      // Deleted from the stream while pending: nothing to process.
      empty_ids.push_back(std::move(entry.id));
      continue;
    }
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
  entries_read_.fetch_add(static_cast<int64_t>(entries.size()));
  {
    absl::MutexLock lock(&mu_);
    to_ack_.insert(to_ack_.end(), empty_ids.begin(), empty_ids.end());
    if (events.empty()) return;
    ++in_flight_;
  }
  worker_->Submit(std::move(events),
                  [this, ids = std::move(ids)](absl::StatusOr<std::vector<InputOutcome>> out) {
                    absl::MutexLock lock(&mu_);
                    --in_flight_;
                    if (out.ok()) {
                      to_ack_.insert(to_ack_.end(), ids.begin(), ids.end());
                    } else {
                      batch_failed_ = true;
                    }
                  });
}

void LocalStreamReader::Run() {
  RedisClient redis(options_.redis);
  absl::Duration backoff = absl::Milliseconds(50);
  auto stopping = [this] {
    absl::MutexLock lock(&mu_);
    return stop_;
  };
  auto sleep = [this](absl::Duration d) {
    absl::MutexLock lock(&mu_);
    auto stopped = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_; };
    mu_.AwaitWithTimeout(absl::Condition(&stopped), d);
  };
  auto fail = [&](const absl::Status& s, std::string_view what) {
    LOG_EVERY_N(WARNING, 20) << "local stream " << options_.stream << ": " << what << ": "
                             << s.message();
    sleep(backoff);
    backoff = std::min(backoff * 2, options_.backoff_max);
  };

  while (!stopping() && !Setup(redis)) {
    sleep(backoff);
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
  bool read_pending = true;  // own pending entries first
  bool claim = true;         // then other consumers' idle ones
  std::string claim_from = "0-0";
  absl::Time next_lag = absl::InfinitePast();
  while (!stopping()) {
    AckCompleted(redis);
    bool failed;
    {
      absl::MutexLock lock(&mu_);
      failed = std::exchange(batch_failed_, false);
    }
    if (failed) {
      // A batch did not commit: its entries are still pending; read them again.
      WaitInFlightBelow(1);
      read_pending = true;
      sleep(backoff);
      backoff = std::min(backoff * 2, options_.backoff_max);
      continue;
    }
    if (read_pending) {
      WaitInFlightBelow(1);
      AckCompleted(redis);
      absl::StatusOr<std::vector<StreamEntry>> entries = redis.XReadGroup(
          options_.group, options_.consumer, options_.stream, "0", options_.count, std::nullopt);
      if (!entries.ok()) {
        fail(entries.status(), "XREADGROUP 0");
        continue;
      }
      if (entries->empty()) {
        read_pending = false;
        continue;
      }
      LOG(INFO) << "local stream " << options_.stream << ": processing " << entries->size()
                << " pending entr(ies) of consumer " << options_.consumer;
      SubmitEntries(redis, std::move(*entries));
      WaitInFlightBelow(1);
      continue;
    }
    if (claim) {
      absl::StatusOr<XAutoClaimResult> claimed =
          redis.XAutoClaim(options_.stream, options_.group, options_.consumer, options_.claim_idle,
                           claim_from, options_.count);
      if (!claimed.ok()) {
        fail(claimed.status(), "XAUTOCLAIM");
        continue;
      }
      if (!claimed->entries.empty()) {
        LOG(INFO) << "local stream " << options_.stream << ": claimed " << claimed->entries.size()
                  << " idle entr(ies) of other consumers";
        SubmitEntries(redis, std::move(claimed->entries));
      }
      claim_from = claimed->next_id;
      if (claim_from == "0-0") claim = false;
      continue;
    }
    WaitInFlightBelow(options_.max_in_flight);
    bool busy;
    {
      absl::MutexLock lock(&mu_);
      busy = in_flight_ > 0 || !to_ack_.empty();
    }
    absl::StatusOr<std::vector<StreamEntry>> entries =
        redis.XReadGroup(options_.group, options_.consumer, options_.stream, ">", options_.count,
                         busy ? std::optional<absl::Duration>(absl::Milliseconds(5))
                              : std::optional<absl::Duration>(options_.block));
    if (!entries.ok()) {
      // NOGROUP after the stream was deleted: create the group again.
      if (absl::StrContains(entries.status().message(), "NOGROUP")) Setup(redis);
      fail(entries.status(), "XREADGROUP");
      continue;
    }
    backoff = absl::Milliseconds(50);
    if (!entries->empty()) SubmitEntries(redis, std::move(*entries));
    if (absl::Now() >= next_lag) {
      next_lag = absl::Now() + absl::Seconds(1);
      absl::StatusOr<GroupInfo> info = redis.XInfoGroup(options_.stream, options_.group);
      if (info.ok() && info->lag.has_value()) lag_.store(*info->lag);
    }
  }
  // Shutdown: let the batches in flight commit, then acknowledge them.
  WaitInFlightBelow(1);
  AckCompleted(redis);
}

}  // namespace teleclaude::mesh
