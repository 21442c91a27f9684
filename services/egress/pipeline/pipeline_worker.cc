#include "services/egress/pipeline/pipeline_worker.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/envelope/proto_codec.h"
#include "common/json/json_text.h"
#include "common/json/writer.h"
#include "common/sqlite/statement.h"
#include "common/sqlite/transaction.h"
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
      hub_(hub) {
  CHECK(mesh_outbox_ != nullptr && push_outbox_ != nullptr);
  mesh_outbox_->AttachWriter(this);
  push_outbox_->AttachWriter(this);
}

PipelineWorker::~PipelineWorker() {
  Stop();
  mesh_outbox_->AttachWriter(nullptr);
  push_outbox_->AttachWriter(nullptr);
}

absl::Status PipelineWorker::Start() {
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void PipelineWorker::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void PipelineWorker::Submit(std::vector<InputEvent> events, BatchDoneFn done) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopped_) {
      batches_.push_back({std::move(events), std::move(done)});
      return;
    }
  }
  done(absl::UnavailableError("egress is shutting down"));
}

void PipelineWorker::Post(std::function<void(bool stopped)> task) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopped_) {
      tasks_.push_back(std::move(task));
      return;
    }
  }
  task(true);
}

bool PipelineWorker::OutboxWork() const {
  return mesh_outbox_->HasWork() || push_outbox_->HasWork();
}

absl::Status PipelineWorker::Transact(absl::FunctionRef<absl::Status()> body) {
  absl::StatusOr<Transaction> txn = Transaction::Begin(db_->database());
  if (!txn.ok()) return txn.status();
  absl::Status status = [&]() -> absl::Status {
    for (Outbox* o : {mesh_outbox_, push_outbox_}) TM_RETURN_IF_ERROR(o->BeforeJobs());
    TM_RETURN_IF_ERROR(body());
    for (Outbox* o : {mesh_outbox_, push_outbox_}) TM_RETURN_IF_ERROR(o->AfterJobs());
    return txn->Commit();
  }();
  if (!status.ok()) {
    for (Outbox* o : {mesh_outbox_, push_outbox_}) o->RolledBack();
    AfterFailure(status);
    return status;
  }
  if (options_.write_health != nullptr) options_.write_health->Committed();
  if (options_.checkpointer != nullptr) options_.checkpointer->Committed(db_->database());
  for (Outbox* o : {mesh_outbox_, push_outbox_}) o->Committed();
  return absl::OkStatus();
}

void PipelineWorker::Wake() {
  // Nothing to change: releasing mu_ makes the worker's Await re-evaluate
  // its condition, which asks the outbox again (HasWork, HoldInputs).
  absl::MutexLock lock(&mu_);
}

PipelineWorker::Stats PipelineWorker::stats() const {
  const OutboxTotals mesh = mesh_outbox_->Totals();
  const OutboxTotals push = push_outbox_->Totals();
  int64_t background_checkpoints = 0;
  if (options_.checkpointer != nullptr) {
    const WalCheckpointer::Stats c = options_.checkpointer->stats();
    background_checkpoints = c.checkpoints + c.backstops;
  }
  absl::MutexLock lock(&mu_);
  Stats s = stats_;
  s.checkpoints += background_checkpoints;
  s.mesh_outbox_depth = mesh.depth;
  s.push_outbox_depth = push.depth;
  s.outbox_dropped = mesh.dropped + mesh.forgotten;
  return s;
}

bool PipelineWorker::HoldInputs(int64_t extra) const {
  return !stop_ && mesh_outbox_->ShouldHoldInputs(extra);
}

void PipelineWorker::Run() {
  bool held = false;  // the last round held inputs back
  while (true) {
    std::vector<PendingBatch> batches;
    std::vector<std::function<void(bool)>> tasks;
    bool exit = false;
    if (pause_ > absl::ZeroDuration()) {
      // The disk was full: give it time before the next transaction (Stop
      // ends the pause).
      absl::MutexLock lock(&mu_);
      auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_; };
      mu_.AwaitWithTimeout(absl::Condition(&stopping), pause_);
      pause_ = absl::ZeroDuration();
    }
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || (!batches_.empty() && !HoldInputs(0)) || !tasks_.empty() || OutboxWork();
      };
      // While holding, the sender's reports wake the worker (Wake); the
      // timeout is a fallback.
      // A pruning pass in progress goes on at once.
      mu_.AwaitWithTimeout(absl::Condition(&ready), held       ? options_.hold_recheck
                                                    : pruning_ ? absl::ZeroDuration()
                                                               : absl::Seconds(1));
      while (!tasks_.empty()) {
        tasks.push_back(std::move(tasks_.front()));
        tasks_.pop_front();
      }
      // Back-pressure: while the sender drains a peer, batches are taken
      // only as long as that peer's backlog, counting what they are likely
      // to add (at most one message per event and peer), stays below half
      // the bound.
      int64_t projected = 0;
      size_t events = 0;
      held = false;
      while (!batches_.empty() &&
             (batches.empty() || events < static_cast<size_t>(options_.max_batch_events))) {
        if (HoldInputs(projected)) {
          held = true;
          ++stats_.input_holds;
          break;
        }
        events += batches_.front().events.size();
        if (mesh_fanout_ > 0) projected += static_cast<int64_t>(batches_.front().events.size());
        batches.push_back(std::move(batches_.front()));
        batches_.pop_front();
      }
      if (stop_ && batches_.empty() && tasks_.empty()) {
        // Nothing more can be queued after this: late callers fail fast.
        stopped_ = true;
        exit = true;
      }
    }
    for (auto& task : tasks) task(false);
    if (!batches.empty() || OutboxWork()) {
      ProcessBatches(std::move(batches));
    }
    if (exit) return;
    MaybePrune();
    size_t events_waiting = 0;
    {
      absl::MutexLock lock(&mu_);
      for (const PendingBatch& b : batches_) events_waiting += b.events.size();
    }
    MaybeCheckpoint(events_waiting);
  }
}

void PipelineWorker::AfterFailure(const absl::Status& status) {
  const bool full =
      options_.write_health != nullptr ? options_.write_health->Failed(status) : IsDiskFull(status);
  if (!full) return;
  // Give the WAL's space back before retrying: with nothing of the failed
  // transaction left, TRUNCATE copies what was committed into the database
  // file and cuts the WAL to zero bytes.
  absl::StatusOr<int> copied = db_->database()->Checkpoint(CheckpointMode::kTruncate);
  if (!copied.ok()) {
    LOG_EVERY_N(WARNING, 20) << "events.db: disk full; TRUNCATE checkpoint: "
                             << copied.status().message();
  }
  pause_ = disk_full_backoff_.Next();
}

void PipelineWorker::MaybeCheckpoint(size_t events_waiting) {
  if (options_.checkpointer != nullptr) return;  // its own thread does them
  Database* db = db_->database();
  const int threshold = events_waiting >= static_cast<size_t>(options_.checkpoint_backlog_events)
                            ? options_.checkpoint_busy_pages
                            : options_.checkpoint_idle_pages;
  if (db->wal_frames() < threshold) return;
  absl::StatusOr<int> copied = db->Checkpoint();
  if (!copied.ok()) {
    // Harmless for the data (the WAL keeps it); retried after the next round.
    LOG_EVERY_N(WARNING, 100) << copied.status().message();
    return;
  }
  absl::MutexLock lock(&mu_);
  ++stats_.checkpoints;
}

void PipelineWorker::ProcessBatches(std::vector<PendingBatch> batches) {
  std::vector<RunResult> results;       // for watchers
  std::vector<Invocation> invocations;  // for the tracker
  std::vector<std::vector<InputOutcome>> outcomes(batches.size());
  int64_t processed = 0, duplicate = 0;
  int64_t mesh_added = 0;

  bool began = false;  // the outboxes took part (BeforeJobs ran)
  absl::Status status = [&]() -> absl::Status {
    absl::StatusOr<Transaction> txn = Transaction::Begin(db_->database());
    if (!txn.ok()) return txn.status();
    began = true;
    for (Outbox* o : {mesh_outbox_, push_outbox_}) TM_RETURN_IF_ERROR(o->BeforeJobs());
    for (size_t b = 0; b < batches.size(); ++b) {
      outcomes[b].reserve(batches[b].events.size());
      for (InputEvent& in : batches[b].events) {
        InputOutcome out;
        if (in.record_input) {
          absl::StatusOr<bool> fresh = db_->MarkInputProcessed(in.input_key);
          if (!fresh.ok()) return fresh.status();
          if (!*fresh) {
            out.status = InputOutcome::Status::kDuplicate;
            if (in.want_envelope) out.envelope = std::move(in.envelope);
            outcomes[b].push_back(std::move(out));
            ++duplicate;
            continue;
          }
        }
        size_t first = results.size();
        const bool want_envelope = in.want_envelope;
        runner_->Run(std::move(in.envelope), in.origin, std::move(in.source_computer),
                     std::move(in.input_key), &results, &invocations);
        const RunResult& r = results[first];
        out.status = r.status == RunResult::Status::kDropped ? InputOutcome::Status::kDropped
                                                             : InputOutcome::Status::kProcessed;
        out.dropped_by = r.dropped_by;
        out.notification_id = r.notification_id;
        if (want_envelope) out.envelope = r.envelope;
        outcomes[b].push_back(std::move(out));
        ++processed;
      }
    }
    mesh_added = publisher_ != nullptr ? publisher_->TakeDeliveriesAdded() : 0;
    // Slow to forget a fan-out: a burst of public events may follow
    // batches that sent nothing.
    if (processed > 0) {
      mesh_fanout_ = std::max(static_cast<double>(mesh_added) / processed, mesh_fanout_ * 0.9);
    }
    // The outboxes record their senders' progress and apply their bounds
    // (the mesh's drops a peer's oldest, counted) in this transaction.
    for (Outbox* o : {mesh_outbox_, push_outbox_}) TM_RETURN_IF_ERROR(o->AfterJobs());
    return txn->Commit();
  }();

  if (!status.ok()) {
    // Nothing of this batch happened: callers retry (the stream reader does
    // not XACK; RPC callers get the error).
    LOG(ERROR) << "events.db batch of " << batches.size()
               << " input batch(es) failed: " << status.message();
    if (began) {
      for (Outbox* o : {mesh_outbox_, push_outbox_}) o->RolledBack();
    }
    // The publisher's counter was taken above (or is reset now).
    if (publisher_ != nullptr) publisher_->TakeDeliveriesAdded();
    {
      absl::MutexLock lock(&mu_);
      ++stats_.batch_failures;
    }
    for (PendingBatch& b : batches) b.done(status);
    AfterFailure(status);
    return;
  }
  disk_full_backoff_.Reset();
  if (options_.write_health != nullptr) options_.write_health->Committed();
  if (options_.checkpointer != nullptr) {
    options_.checkpointer->Committed(db_->database());
  }
  // Wakes the senders when messages were appended or moved.
  for (Outbox* o : {mesh_outbox_, push_outbox_}) o->Committed();

  {
    absl::MutexLock lock(&mu_);
    stats_.inputs_processed += processed;
    stats_.inputs_duplicate += duplicate;
    stats_.batches += 1;
  }
  for (size_t b = 0; b < batches.size(); ++b) batches[b].done(std::move(outcomes[b]));
  if (tracker_ != nullptr) tracker_->Add(invocations);

  if (hub_ != nullptr && hub_->HasSubscribers() && !results.empty()) {
    std::string at = EventsDb::NowIso();
    std::vector<std::shared_ptr<const v1::WatchedEvent>> watched;
    watched.reserve(results.size());
    for (const RunResult& r : results) watched.push_back(ToWatched(r, at));
    hub_->Publish(watched, /*meta=*/false);
    if (hub_->HasMetaSubscribers() && !invocations.empty()) {
      std::vector<std::shared_ptr<const v1::WatchedEvent>> meta;
      meta.reserve(invocations.size());
      for (const Invocation& inv : invocations) {
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
}

void PipelineWorker::MaybePrune() {
  // One small transaction per round: a large backlog of old inputs is
  // forgotten between batches instead of stalling the pipeline.
  SeenIds& seen = db_->seen_inputs();
  pruning_ = seen.RunIfDue(options_.clock->Now());
  absl::MutexLock lock(&mu_);
  stats_.inputs_pruned = seen.pruned();
}

}  // namespace teleclaude::mesh
