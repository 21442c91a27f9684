// The pipeline worker: the one thread that owns events.db and runs the chain
// (DESIGN §4, doc/events-db.md). Work arrives in a queue — batches from the
// local stream reader and from Submit/Emit RPCs, and tasks (RPCs that read or
// change notifications). The worker takes everything queued (up to
// max_batch_events) and processes it in ONE transaction: seen-input check
// (SeenIds), the chain (dedup, projection, outbox messages), and the two
// outboxes' own work (each is a RoundParticipant of the transaction:
// common/delivery/outbox.h records its sender's progress per destination and
// applies its bound there); then commits, then completes the batches (RPC
// replies, stream XACKs), then wakes the senders, hands the invocations to
// the tracker and feeds the watchers. An idle worker starts a batch as soon
// as something arrives (no waiting for a full batch). The worker is the
// outboxes' writer (Waker): an outbox wakes it when its sender reported
// progress.
//
// Back-pressure from the mesh outbox (Outbox::ShouldHoldInputs): while a
// peer the sender is draining (its sends go out whole: not held by flow
// control, not failing) holds at least half of the per-peer bound, the
// worker takes no new input batches — they wait where they came from (the
// local stream keeps its entries until they are acknowledged), so a fan-out
// burst goes out at the sender's pace instead of overflowing the bound. A
// peer that is full, failing or dead does not hold inputs back: its bound
// drops its oldest messages, counted per peer.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_PIPELINE_WORKER_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_PIPELINE_WORKER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/delivery/backoff.h"
#include "common/delivery/outbox.h"
#include "common/delivery/waker.h"
#include "common/sqlite/wal_checkpointer.h"
#include "common/sqlite/write_health.h"
#include "services/egress/cartridges/mesh_publisher.h"
#include "services/egress/pipeline/invocation_tracker.h"
#include "services/egress/pipeline/pipeline_runner.h"
#include "services/egress/pipeline/watch_hub.h"
#include "services/egress/storage/events_db.h"

namespace teleclaude::mesh {

// One event to run.
struct InputEvent {
  EventEnvelope envelope;
  EventOrigin origin = EventOrigin::kLocal;
  std::string source_computer;
  // Never empty. With record_input, a key seen before makes the event a
  // duplicate (no second effect): `local:{stream}:{entry id}`,
  // `mesh:{message id}`, `submit:{message id}` (doc/wire.md).
  std::string input_key;
  bool record_input = true;
  // The outcome carries the envelope as it left the chain (RPC callers that
  // return it); otherwise it is left empty (saves a copy per event).
  bool want_envelope = false;
};

struct InputOutcome {
  enum class Status { kProcessed, kDropped, kDuplicate };
  Status status = Status::kProcessed;
  std::string dropped_by;
  int64_t notification_id = 0;
  EventEnvelope envelope;  // only with InputEvent::want_envelope
};

// Called on the worker thread after the batch committed (outcomes in input
// order) or failed (nothing of it committed). Must not block.
using BatchDoneFn = std::function<void(absl::StatusOr<std::vector<InputOutcome>> outcomes)>;

// Thread-safe (every public method may be called from any thread).
class PipelineWorker : public Waker {
 public:
  struct Options {
    std::string computer_name;  // source of cartridge.invoked watch events
    int max_batch_events = 1024;
    // `now` of the chores (the seen-inputs pruning); the same clock as
    // events.db's SeenIds::Options.
    const Clock* clock = Clock::Real();
    // WAL checkpoints (events.db is opened without SQLite's auto-checkpoint,
    // which runs inside the COMMIT that passes 1000 pages): after a round,
    // once the WAL holds checkpoint_idle_pages — or, while a backlog of at
    // least checkpoint_backlog_events input events waits (the local stream
    // reader's batches are 512), checkpoint_busy_pages. A checkpoint costs
    // two fsyncs whatever its size, so under a backlog they come 8x less
    // often; at a steady trickle they stay small, so no single one stalls the
    // events behind it for long. The round's inputs are acknowledged before
    // it runs.
    int checkpoint_idle_pages = 1000;
    int checkpoint_busy_pages = 8000;
    int checkpoint_backlog_events = 512;
    // When set (egress), the worker only tells the checkpointer the WAL's
    // size after each commit; checkpoints run on its own connection and
    // thread and never stall this one (the checkpoint_* fields above are
    // then unused). Not owned.
    WalCheckpointer* checkpointer = nullptr;
    // When set, told of every commit and every failed batch (disk full ->
    // health and `telec status`). Not owned.
    WriteHealth* write_health = nullptr;
    // A batch that failed because the disk is full: the worker checkpoints
    // the WAL with TRUNCATE (giving its space back), then pauses this long —
    // doubling up to disk_full_backoff_max while it keeps failing — before
    // its next transaction. Nothing of a failed batch is acknowledged.
    absl::Duration disk_full_backoff_min = absl::Milliseconds(50);
    absl::Duration disk_full_backoff_max = absl::Seconds(5);
    // While holding inputs for the mesh sender, re-ask the outbox this
    // often even without a report.
    absl::Duration hold_recheck = absl::Milliseconds(200);
  };
  // None owned; all must outlive the worker. `publisher` is the runner's
  // mesh-publisher (for the fan-out estimate); `mesh_outbox` is the outbox it
  // appends to and `push_outbox` the installer pushes' (installer_push.h),
  // both opened on db->database() (the worker attaches itself as their
  // writer and runs their round work in every transaction).
  PipelineWorker(Options options, EventsDb* db, PipelineRunner* runner, MeshPublisher* publisher,
                 Outbox* mesh_outbox, Outbox* push_outbox, InvocationTracker* tracker,
                 WatchHub* hub);
  ~PipelineWorker() override;  // Stop()

  // Counts the outbox and starts the thread.
  absl::Status Start();
  // Processes everything already queued, then ends the thread. Work
  // submitted afterwards fails with UNAVAILABLE. Idempotent.
  void Stop();

  void Submit(std::vector<InputEvent> events, BatchDoneFn done);
  // Runs `task` on the worker thread between batches (it may use the db, in
  // its own transaction, and the runner). After Stop() the task runs with
  // `stopped` = true on the caller's thread instead and must not touch the db.
  void Post(std::function<void(bool stopped)> task);
  // Runs `body` in one transaction together with the outboxes' round work
  // (a task that appends a push: ResolveNotification): commits when it
  // returns OK (then wakes the senders), rolls back otherwise and returns
  // its status. REQUIRES: on the worker thread (in a Post task).
  absl::Status Transact(absl::FunctionRef<absl::Status()> body);
  // Waker: an outbox has work (its sender reported) or held inputs may go
  // now.
  void Wake() override;

  struct Stats {
    int64_t inputs_processed = 0;
    int64_t inputs_duplicate = 0;
    int64_t batches = 0;
    int64_t batch_failures = 0;
    // Deliveries waiting in the outboxes (mesh: summed over the peers; per
    // peer: Outbox::Stats).
    int64_t mesh_outbox_depth = 0;
    int64_t push_outbox_depth = 0;
    int64_t outbox_dropped = 0;  // mesh deliveries dropped by the per-peer bound
    // Rounds in which the worker held input batches back for the mesh
    // sender (a round ends at each sender report or wake-up).
    int64_t input_holds = 0;
    int64_t checkpoints = 0;    // WAL checkpoints run (here, by the checkpointer, backstops)
    int64_t inputs_pruned = 0;  // input keys forgotten (SeenIds' ttl)
  };
  Stats stats() const;

 private:
  struct PendingBatch {
    std::vector<InputEvent> events;
    BatchDoneFn done;
  };
  void Run();
  void ProcessBatches(std::vector<PendingBatch> batches);
  // Whether an outbox has round work of its own (its sender reported).
  bool OutboxWork() const;
  // One chunk of the seen-inputs pruning pass (events.db's SeenIds, a
  // WriterChore: its ttl, interval and chunk come from EventsDb::Open),
  // when one is due or running.
  void MaybePrune();
  // A checkpoint when the WAL is over the threshold for `events_waiting`.
  void MaybeCheckpoint(size_t events_waiting);
  // After a failed batch: on a full disk, TRUNCATE checkpoint and set the
  // pause before the next transaction.
  void AfterFailure(const absl::Status& status);
  // True when input batches wait for the mesh sender (back-pressure), with
  // `extra` more messages per peer (Outbox::ShouldHoldInputs).
  bool HoldInputs(int64_t extra) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  EventsDb* const db_;
  PipelineRunner* const runner_;
  MeshPublisher* const publisher_;
  Outbox* const mesh_outbox_;
  Outbox* const push_outbox_;
  InvocationTracker* const tracker_;
  WatchHub* const hub_;

  mutable absl::Mutex mu_;
  std::deque<PendingBatch> batches_ ABSL_GUARDED_BY(mu_);
  std::deque<std::function<void(bool)>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;  // the thread has ended
  Stats stats_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
  // Pruning (worker thread only): a pass is running (the next chunk is due
  // at once).
  bool pruning_ = false;
  // Disk full (worker thread only): the pause before the next transaction
  // and the next one's length.
  absl::Duration pause_ = absl::ZeroDuration();
  Backoff disk_full_backoff_{options_.disk_full_backoff_min, options_.disk_full_backoff_max};
  // Mesh deliveries per input event of the last batch (worker thread only).
  double mesh_fanout_ = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_PIPELINE_WORKER_H_
