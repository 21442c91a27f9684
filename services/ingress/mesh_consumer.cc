#include "services/ingress/mesh_consumer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_join.h"
#include "common/base/strings.h"
#include "common/envelope/proto_codec.h"
#include "common/json/json_text.h"
#include "common/json/writer.h"
#include "glog/logging.h"
#include "services/ingress/rejection_event.h"

namespace teleclaude::mesh {
namespace {

bool Confirmed(v1::OutcomeStatus status) {
  switch (status) {
    case v1::OUTCOME_PROCESSED:
    case v1::OUTCOME_DROPPED:
    case v1::OUTCOME_DUPLICATE:
    case v1::OUTCOME_INVALID:
      return true;
    default:
      return false;
  }
}

std::string FlagsJson(const std::vector<std::string>& flags) {
  std::string out;
  json::Writer(&out).StringList(flags);
  return out;
}

bool CountsAsMalformed(std::string_view reason) {
  return reason == kReasonMalformed || reason == kReasonTooLarge;
}

}  // namespace

MeshConsumer::MeshConsumer(Options options, const TrustEvaluator* trust,
                           QuarantineStore* quarantine, PipelineClient* pipeline)
    : options_(std::move(options)),
      decoder_(MeshEntryDecoder::Options{options_.computer_name, options_.max_message_bytes,
                                         options_.authenticator}),
      trust_(trust),
      quarantine_(quarantine),
      pipeline_(pipeline) {
  CHECK(trust_ != nullptr);
  CHECK(quarantine_ != nullptr);
  CHECK(pipeline_ != nullptr);
  ConsumerGroupReader::Options r;
  r.redis = options_.redis;
  r.stream = options_.stream;
  r.group = options_.group;
  r.consumer = options_.computer_name;
  // The group starts at the stream's current end: history is not replayed.
  // After NOGROUP what the stream holds was written after Redis lost the
  // group, so all of it is read.
  r.start_id = "$";
  r.recreate_start_id = "0";
  r.count = options_.batch_size;
  r.block = options_.block;
  // One batch in Submit, max_prepared_batches queued, one being prepared.
  r.max_batches_in_flight = options_.max_prepared_batches + 2;
  r.claim_min_idle = options_.claim_min_idle;
  r.claim_every = options_.claim_every;
  r.backoff_min = options_.backoff_min;
  r.backoff_max = options_.backoff_max;
  reader_ = std::make_unique<ConsumerGroupReader>(std::move(r), static_cast<BatchHandler*>(this));
}

MeshConsumer::~MeshConsumer() { Stop(); }

void MeshConsumer::Start() {
  if (started_.exchange(true)) return;
  submit_thread_ = std::thread([this] { RunSubmitter(); });
  reader_->Start();
}

void MeshConsumer::Stop() {
  {
    absl::MutexLock lock(&queue_mu_);
    queue_stop_ = true;
  }
  if (!stop_.HasBeenNotified()) stop_.Notify();
  // Returns once every batch handed over is settled: the submitter and
  // HandleBatch settle theirs when they see the stop.
  reader_->Stop();
  if (submit_thread_.joinable()) submit_thread_.join();
}

bool MeshConsumer::ReadyToRead() {
  if (!options_.can_read || options_.can_read()) return true;
  LOG_EVERY_T(INFO, 30) << "ingress: waiting for the first peer refresh before reading";
  return false;
}

void MeshConsumer::HandleBatch(StreamBatch batch) {
  if (batch.origin != StreamBatch::Origin::kNew) {
    LOG(INFO) << "ingress: handling " << batch.entries.size()
              << (batch.origin == StreamBatch::Origin::kPending ? " pending" : " claimed idle")
              << " entr(ies) of " << options_.stream;
  }
  ProcessBatch(batch.id, batch.entries);
}

void MeshConsumer::RunSubmitter() {
  while (true) {
    PreparedBatch batch;
    std::deque<PreparedBatch> handed_back;
    bool stop;
    {
      absl::MutexLock lock(&queue_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
        return queue_stop_ || !queue_.empty();
      };
      queue_mu_.Await(absl::Condition(&ready));
      stop = queue_stop_;
      if (stop) {
        handed_back.swap(queue_);
      } else {
        batch = std::move(queue_.front());
        queue_.pop_front();
      }
    }
    if (stop) {
      // Stopping: batches not submitted yet stay pending in the stream
      // (what is already committed in them is acknowledged).
      for (PreparedBatch& b : handed_back) reader_->Settle(b.batch_id, std::move(b.ack));
      return;
    }
    Deliver(std::move(batch));
  }
}

IngressCounters MeshConsumer::Counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

bool MeshConsumer::Pause(Backoff& backoff) {
  return !stop_.WaitForNotificationWithTimeout(backoff.Next());
}

bool MeshConsumer::ProcessBatch(uint64_t batch_id, const std::vector<StreamEntry>& entries) {
  PreparedBatch batch;
  batch.batch_id = batch_id;
  std::vector<std::string>& ack = batch.ack;  // entries whose effects are committed
  std::vector<v1::SubmittedEvent>& events = batch.events;
  std::vector<std::string>& event_entry_ids = batch.event_entry_ids;
  std::vector<QuarantineRecord> quarantine;
  std::vector<Rejection> quarantine_rejections;
  IngressCounters delta;

  auto add_rejection = [&](const Rejection& rejection, const std::string& entry_id) {
    ++delta.rejected_by_reason[rejection.reason];
    if (CountsAsMalformed(rejection.reason)) ++delta.malformed;
    LOG_EVERY_T(WARNING, 5) << "ingress: rejected entry " << entry_id << " from "
                            << rejection.source_computer.value_or("(unknown)") << ": "
                            << rejection.reason << ": " << rejection.detail;
    v1::SubmittedEvent& event = events.emplace_back();
    EnvelopeToProto(BuildRejectionEvent(rejection, options_.computer_name, entry_id),
                    event.mutable_envelope());
    event.set_origin(v1::ORIGIN_LOCAL);
    event.set_message_id(RejectionMessageId(entry_id));
    event_entry_ids.push_back(entry_id);
  };

  for (const StreamEntry& entry : entries) {
    DecodedEntry decoded = decoder_.Decode(entry);
    switch (decoded.kind) {
      case DecodedEntry::Kind::kNotMesh:
        // Unanswered (Redis refused the answer): stays pending, read again later.
        if (options_.transport != nullptr && !options_.transport->Answer(entry).ok()) break;
        ++delta.non_mesh_ignored;
        ack.push_back(entry.id);
        break;
      case DecodedEntry::Kind::kRejected:
        ++delta.received;
        add_rejection(decoded.rejection, entry.id);
        break;
      case DecodedEntry::Kind::kEvent: {
        ++delta.received;
        MeshEvent& mesh_event = decoded.event;
        TrustDecision decision = trust_->Evaluate(mesh_event.envelope, mesh_event.source_computer);
        AddAuthFlags(mesh_event.auth, &decision);
        if (decision.outcome == TrustOutcome::kFlag) {
          absl::StatusOr<std::string> flagged = json::SetMember(
              mesh_event.envelope.payload_json, "_trust_flags", FlagsJson(decision.flags));
          if (!flagged.ok()) {  // cannot happen for a decoded payload; never crash on it
            decision.outcome = TrustOutcome::kReject;
            decision.reason = std::string(kReasonMalformed);
            decision.detail = Cat("payload: ", ToStd(flagged.status().message()));
          } else {
            mesh_event.envelope.payload_json = *std::move(flagged);
          }
        }
        Rejection rejection;
        rejection.source_computer = mesh_event.source_computer;
        rejection.event_type = mesh_event.envelope.event;
        rejection.raw = mesh_event.raw;
        switch (decision.outcome) {
          case TrustOutcome::kAccept:
          case TrustOutcome::kFlag: {
            ++delta.accepted;
            if (decision.outcome == TrustOutcome::kFlag) ++delta.flagged;
            v1::SubmittedEvent& event = events.emplace_back();
            EnvelopeToProto(mesh_event.envelope, event.mutable_envelope());
            event.set_origin(v1::ORIGIN_MESH);
            event.set_source_computer(mesh_event.source_computer);
            event.set_message_id(mesh_event.message_id);
            event_entry_ids.push_back(entry.id);
            break;
          }
          case TrustOutcome::kQuarantine:
            rejection.reason = std::string(kReasonQuarantined);
            rejection.detail = Cat("trust flags ", FlagsJson(decision.flags));
            quarantine_rejections.push_back(std::move(rejection));
            quarantine.push_back(QuarantineRecord{entry.id, mesh_event.source_computer,
                                                  std::move(mesh_event.envelope),
                                                  std::move(decision.flags)});
            break;
          case TrustOutcome::kReject:
            rejection.reason =
                decision.reason.empty() ? std::string(kReasonUntrusted) : decision.reason;
            rejection.detail = decision.detail;
            if (!decision.flags.empty()) {
              CatTo(rejection.detail, " (trust flags ", FlagsJson(decision.flags), ")");
            }
            add_rejection(rejection, entry.id);
            break;
        }
        break;
      }
    }
  }

  // Quarantine first: its rows must be committed before the entries go.
  if (!quarantine.empty()) {
    Backoff backoff(options_.backoff_min, options_.backoff_max);
    while (true) {
      absl::StatusOr<std::vector<int64_t>> ids = quarantine_->InsertBatch(quarantine);
      if (ids.ok()) {
        delta.quarantined += static_cast<int64_t>(quarantine.size());
        for (size_t i = 0; i < quarantine.size(); ++i) {
          Rejection& rejection = quarantine_rejections[i];
          rejection.detail = Cat("held in quarantined_events as #", (*ids)[i], " (",
                                 rejection.detail, "); not processed");
          add_rejection(rejection, quarantine[i].stream_entry_id);
        }
        break;
      }
      LOG_EVERY_T(ERROR, 30) << "ingress: quarantine " << quarantine_->path() << ": "
                             << ids.status() << " (retrying)";
      if (!Pause(backoff)) {  // stopping: the entries stay pending
        reader_->Settle(batch_id, std::move(ack));
        return false;
      }
    }
  }

  {
    absl::MutexLock lock(&mu_);
    counters_.received += delta.received;
    counters_.accepted += delta.accepted;
    counters_.flagged += delta.flagged;
    counters_.quarantined += delta.quarantined;
    counters_.malformed += delta.malformed;
    counters_.non_mesh_ignored += delta.non_mesh_ignored;
    for (const auto& [reason, n] : delta.rejected_by_reason)
      counters_.rejected_by_reason[reason] += n;
  }

  batch.last_entry_id = entries.back().id;
  {
    absl::MutexLock lock(&queue_mu_);
    auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
      return queue_stop_ || queue_.size() < static_cast<size_t>(options_.max_prepared_batches);
    };
    queue_mu_.Await(absl::Condition(&room));
    if (!queue_stop_) {
      queue_.push_back(std::move(batch));
      return true;
    }
  }
  reader_->Settle(batch_id, std::move(ack));
  return false;
}

void MeshConsumer::Deliver(PreparedBatch batch) {
  std::vector<std::string>& ack = batch.ack;
  std::vector<v1::SubmittedEvent>& events = batch.events;
  const std::vector<std::string>& event_entry_ids = batch.event_entry_ids;
  // Submit in as few calls as the size limit allows (normally one).
  size_t begin = 0;
  bool handed_back = false;
  Backoff backoff(options_.backoff_min, options_.backoff_max);
  int64_t limit = options_.submit_max_bytes;
  while (begin < events.size() && !handed_back) {
    v1::SubmitRequest request;
    request.set_omit_envelopes(true);  // only the statuses are read
    int64_t bytes = 0;
    size_t end = begin;
    while (end < events.size()) {
      int64_t size = static_cast<int64_t>(events[end].ByteSizeLong()) + 8;
      if (end > begin && bytes + size > limit) break;
      bytes += size;
      *request.add_events() = events[end];
      ++end;
    }
    absl::StatusOr<v1::SubmitResponse> response = pipeline_->Submit(request);
    if (response.ok()) {
      for (size_t i = 0; i < static_cast<size_t>(response->outcomes_size()); ++i) {
        const v1::EventOutcome& outcome = response->outcomes(static_cast<int>(i));
        if (Confirmed(outcome.status())) {
          ack.push_back(event_entry_ids[begin + i]);
        } else {
          LOG(WARNING) << "ingress: unknown outcome " << outcome.status() << " for entry "
                       << event_entry_ids[begin + i] << "; left pending";
        }
      }
      begin = end;
      backoff.Reset();
      limit = options_.submit_max_bytes;
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      ++counters_.submit_retries;
    }
    if (response.status().code() == absl::StatusCode::kResourceExhausted) {
      if (end - begin > 1) {
        limit = std::max<int64_t>(1, bytes / 2);  // smaller calls
        continue;
      }
      if (events[begin].origin() == v1::ORIGIN_MESH) {
        // One event egress will never take: refuse it instead of retrying forever.
        Rejection rejection;
        rejection.source_computer = events[begin].source_computer();
        rejection.event_type = events[begin].envelope().event();
        rejection.reason = std::string(kReasonTooLarge);
        rejection.detail = Cat("egress refused the event: ", ToStd(response.status().message()));
        {
          absl::MutexLock lock(&mu_);
          --counters_.accepted;
          ++counters_.rejected_by_reason[rejection.reason];
          ++counters_.malformed;
        }
        const std::string entry_id = event_entry_ids[begin];
        events[begin].Clear();
        EnvelopeToProto(BuildRejectionEvent(rejection, options_.computer_name, entry_id),
                        events[begin].mutable_envelope());
        events[begin].set_origin(v1::ORIGIN_LOCAL);
        events[begin].set_message_id(RejectionMessageId(entry_id));
        continue;
      }
    }
    LOG_EVERY_T(WARNING, 10) << "ingress: " << response.status() << " (" << (end - begin)
                             << " events; retrying, nothing acknowledged)";
    if (!Pause(backoff)) handed_back = true;
  }

  // The reader acknowledges what is committed; the rest stays pending.
  reader_->Settle(batch.batch_id, std::move(ack));
  absl::MutexLock lock(&mu_);
  if (!handed_back) {
    ++counters_.batches;
    counters_.last_entry_id = batch.last_entry_id;
  }
}

}  // namespace teleclaude::mesh
