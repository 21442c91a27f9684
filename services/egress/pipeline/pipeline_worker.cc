#include "services/egress/pipeline/pipeline_worker.h"

#include <algorithm>
#include <utility>

#include "common/envelope/proto_codec.h"
#include "common/json/writer.h"
#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

std::shared_ptr<const v1::WatchedEvent> ToWatched(const RunResult& r, const std::string& at) {
  auto w = std::make_shared<v1::WatchedEvent>();
  EnvelopeToProto(r.envelope, w->mutable_envelope());
  w->set_origin(r.origin == EventOrigin::kMesh ? v1::ORIGIN_MESH : v1::ORIGIN_LOCAL);
  w->set_source_computer(r.source_computer);
  w->set_status(r.status == RunResult::Status::kDropped ? v1::OUTCOME_DROPPED
                                                        : v1::OUTCOME_PROCESSED);
  w->set_dropped_by(r.dropped_by);
  w->set_processed_at(at);
  return w;
}

}  // namespace

// One input batch: its events run through the chain in the round's
// transaction; the caller hears after the commit.
class PipelineWorker::BatchJob : public WriterJob {
 public:
  BatchJob(PipelineWorker* worker, std::vector<InputEvent> events, BatchDoneFn done)
      : worker_(worker), events_(std::move(events)), done_(std::move(done)) {}

  size_t weight() const override { return events_.size(); }

  absl::Status Apply() override {
    PipelineWorker& w = *worker_;
    outcomes_.reserve(events_.size());
    for (InputEvent& in : events_) {
      InputOutcome out;
      if (in.record_input) {
        absl::StatusOr<bool> fresh = w.db_->MarkInputProcessed(in.input_key);
        if (!fresh.ok()) return fresh.status();
        if (!*fresh) {
          out.status = InputOutcome::Status::kDuplicate;
          if (in.want_envelope) out.envelope = std::move(in.envelope);
          outcomes_.push_back(std::move(out));
          ++w.round_duplicate_;
          continue;
        }
      }
      const size_t first = w.round_results_.size();
      const bool want_envelope = in.want_envelope;
      w.runner_->Run(std::move(in.envelope), in.origin, std::move(in.source_computer),
                     std::move(in.input_key), &w.round_results_, &w.round_invocations_);
      const RunResult& r = w.round_results_[first];
      out.status = r.status == RunResult::Status::kDropped ? InputOutcome::Status::kDropped
                                                           : InputOutcome::Status::kProcessed;
      out.dropped_by = r.dropped_by;
      out.notification_id = r.notification_id;
      if (want_envelope) out.envelope = r.envelope;
      outcomes_.push_back(std::move(out));
      ++w.round_processed_;
    }
    return absl::OkStatus();
  }

  void Finish(const absl::Status& status) override {
    // Nothing of a failed round happened: callers retry (the stream reader
    // does not XACK; RPC callers get the error).
    if (status.ok()) {
      done_(std::move(outcomes_));
    } else {
      done_(status);
    }
  }

 private:
  PipelineWorker* const worker_;
  std::vector<InputEvent> events_;
  BatchDoneFn done_;
  std::vector<InputOutcome> outcomes_;
};

namespace {

SingleWriter::Options WriterOptions(const PipelineWorker::Options& o) {
  SingleWriter::Options w;
  w.name = "events.db";
  w.max_round_weight = static_cast<size_t>(o.max_batch_events);
  w.gate_recheck = o.hold_recheck;
  w.checkpoint_idle_pages = o.checkpoint_idle_pages;
  w.checkpoint_busy_pages = o.checkpoint_busy_pages;
  w.checkpoint_backlog_weight = static_cast<size_t>(o.checkpoint_backlog_events);
  w.checkpointer = o.checkpointer;
  w.write_health = o.write_health;
  w.clock = o.clock;
  return w;
}

}  // namespace

PipelineWorker::PipelineWorker(Options options, EventsDb* db, PipelineRunner* runner,
                               MeshPublisher* publisher, Outbox* mesh_outbox, Outbox* push_outbox,
                               InvocationTracker* tracker, WatchHub* hub)
    : options_(std::move(options)),
      db_(db),
      runner_(runner),
      publisher_(publisher),
      mesh_outbox_(mesh_outbox),
      push_outbox_(push_outbox),
      tracker_(tracker),
      hub_(hub),
      writer_(WriterOptions(options_), db->database()) {
  CHECK(mesh_outbox_ != nullptr && push_outbox_ != nullptr);
  writer_.AddParticipant(mesh_outbox_);
  writer_.AddParticipant(push_outbox_);
  writer_.AddParticipant(this);
  writer_.AddChore(&db_->seen_inputs());
  writer_.SetInputGate(this);
  mesh_outbox_->AttachWriter(&writer_);
  push_outbox_->AttachWriter(&writer_);
}

PipelineWorker::~PipelineWorker() {
  Stop();
  mesh_outbox_->AttachWriter(nullptr);
  push_outbox_->AttachWriter(nullptr);
}

absl::Status PipelineWorker::Start() {
  writer_.Start();
  return absl::OkStatus();
}

void PipelineWorker::Stop() { writer_.Stop(); }

void PipelineWorker::Submit(std::vector<InputEvent> events, BatchDoneFn done) {
  writer_.Submit(std::make_unique<BatchJob>(this, std::move(events), std::move(done)));
}

void PipelineWorker::Post(std::function<void(bool stopped)> task) { writer_.Post(std::move(task)); }

absl::Status PipelineWorker::Transact(absl::FunctionRef<absl::Status()> body) {
  return writer_.Transact(body);
}

PipelineWorker::Stats PipelineWorker::stats() const {
  const OutboxTotals mesh = mesh_outbox_->Totals();
  const OutboxTotals push = push_outbox_->Totals();
  const SingleWriter::Stats w = writer_.stats();
  Stats s;
  s.inputs_processed = inputs_processed_.load();
  s.inputs_duplicate = inputs_duplicate_.load();
  s.batches = w.rounds;
  s.batch_failures = w.round_failures;
  s.input_holds = w.input_holds;
  s.checkpoints = w.checkpoints;
  if (options_.checkpointer != nullptr) {
    const WalCheckpointer::Stats c = options_.checkpointer->stats();
    s.checkpoints += c.checkpoints + c.backstops;
  }
  s.inputs_pruned = db_->seen_inputs().pruned();
  s.mesh_outbox_depth = mesh.depth;
  s.push_outbox_depth = push.depth;
  s.outbox_dropped = mesh.dropped + mesh.forgotten;
  return s;
}

bool PipelineWorker::Admit(size_t taken) {
  // While the sender drains a peer, batches are taken only as long as that
  // peer's backlog, counting what they are likely to add (at most one
  // message per event and peer), stays below half the bound.
  const int64_t projected = mesh_fanout_.load() > 0 ? static_cast<int64_t>(taken) : 0;
  return !mesh_outbox_->ShouldHoldInputs(projected);
}

absl::Status PipelineWorker::AfterJobs() {
  const int64_t mesh_added = publisher_ != nullptr ? publisher_->TakeDeliveriesAdded() : 0;
  // Slow to forget a fan-out: a burst of public events may follow rounds
  // that sent nothing.
  if (round_processed_ > 0) {
    mesh_fanout_.store(
        std::max(static_cast<double>(mesh_added) / round_processed_, mesh_fanout_.load() * 0.9));
  }
  return absl::OkStatus();
}

void PipelineWorker::RolledBack() {
  // The publisher's counter was taken in AfterJobs, or is reset now.
  if (publisher_ != nullptr) publisher_->TakeDeliveriesAdded();
  round_results_.clear();
  round_invocations_.clear();
  round_processed_ = round_duplicate_ = 0;
}

void PipelineWorker::Committed() {
  inputs_processed_.fetch_add(std::exchange(round_processed_, 0));
  inputs_duplicate_.fetch_add(std::exchange(round_duplicate_, 0));
  if (tracker_ != nullptr && !round_invocations_.empty()) tracker_->Add(round_invocations_);
  if (hub_ != nullptr && hub_->HasSubscribers() && !round_results_.empty()) {
    std::string at = EventsDb::NowIso();
    std::vector<std::shared_ptr<const v1::WatchedEvent>> watched;
    watched.reserve(round_results_.size());
    for (const RunResult& r : round_results_) watched.push_back(ToWatched(r, at));
    hub_->Publish(watched, /*meta=*/false);
    if (hub_->HasMetaSubscribers() && !round_invocations_.empty()) {
      std::vector<std::shared_ptr<const v1::WatchedEvent>> meta;
      meta.reserve(round_invocations_.size());
      for (const Invocation& inv : round_invocations_) {
        RunResult r;
        r.envelope.event = "cartridge.invoked";
        r.envelope.source = options_.computer_name;
        r.envelope.level = Level::kInfrastructure;
        r.envelope.domain = "system";
        r.envelope.visibility = Visibility::kLocal;
        r.envelope.payload_json.clear();  // the default is "{}"
        json::Writer(&r.envelope.payload_json)
            .BeginObject()
            .Key("cartridge_name")
            .String(inv.cartridge_name)
            .Key("event_type")
            .String(inv.event_type)
            .EndObject();
        meta.push_back(ToWatched(r, at));
      }
      hub_->Publish(meta, /*meta=*/true);
    }
  }
  round_results_.clear();
  round_invocations_.clear();
}

}  // namespace teleclaude::mesh
