// The pipeline worker: the one writer of events.db, running the chain (DESIGN
// §4, doc/events-db.md) on the delivery core's SingleWriter
// (common/delivery/single_writer.h). Work arrives as input batches — from the
// local stream reader and from Submit/Emit RPCs, each one WriterJob — and
// tasks (RPCs that read or change notifications, Post). The writer takes
// everything queued (up to max_batch_events) and applies it in ONE
// transaction: per event the seen-input check (SeenIds), then the chain
// (dedup, projection, outbox messages); the two outboxes take part in the
// same transaction (RoundParticipants: common/delivery/outbox.h records each
// sender's progress per destination and applies the mesh outbox's per-peer
// bound there); then COMMIT, then the batches are completed (RPC replies,
// stream XACKs), the senders woken, the invocations handed to the tracker and
// the watchers fed. An idle worker starts a round as soon as something
// arrives. Between rounds: the seen-input pruning (a WriterChore) and WAL
// checkpoints. A failed round has no effect at all (the stream keeps its
// entries, RPC callers get the error); on a full disk the WAL is truncated and
// writes pause with backoff (SingleWriter).
//
// Back-pressure from the mesh outbox (the worker is the writer's InputGate,
// asking Outbox::ShouldHoldInputs): while a peer the sender is draining (its
// sends go out whole: not held by flow control, not failing) holds at least
// half of the per-peer bound, the worker takes no new input batches — they
// wait where they came from (the local stream keeps its entries until they
// are acknowledged), so a fan-out burst goes out at the sender's pace instead
// of overflowing the bound. A peer that is full, failing or dead does not
// hold inputs back: its bound drops its oldest messages, counted per peer.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_PIPELINE_WORKER_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_PIPELINE_WORKER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/delivery/input_gate.h"
#include "common/delivery/outbox.h"
#include "common/delivery/round_participant.h"
#include "common/delivery/single_writer.h"
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

// Thread-safe (every public method may be called from any thread, except
// Transact).
class PipelineWorker : private InputGate, private RoundParticipant {
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
    // When set, told of every commit and every failed round (disk full ->
    // health and `telec status`). Not owned.
    WriteHealth* write_health = nullptr;
    // While holding inputs for the mesh sender, re-ask the outbox this
    // often even without a report.
    absl::Duration hold_recheck = absl::Milliseconds(200);
  };

  // None owned; all must outlive the worker. `publisher` is the runner's
  // mesh-publisher (for the fan-out estimate); `mesh_outbox` is the outbox it
  // appends to and `push_outbox` the installer pushes' (installer_push.h),
  // both opened on db->database() (the worker's writer becomes their writer
  // and runs their round work in every transaction). `tracker` and `hub` may
  // be null.
  PipelineWorker(Options options, EventsDb* db, PipelineRunner* runner, MeshPublisher* publisher,
                 Outbox* mesh_outbox, Outbox* push_outbox, InvocationTracker* tracker,
                 WatchHub* hub);
  ~PipelineWorker() override;  // Stop()
  PipelineWorker(const PipelineWorker&) = delete;
  PipelineWorker& operator=(const PipelineWorker&) = delete;

  // Starts the writer's thread.
  absl::Status Start();
  // Processes everything already queued, then ends the thread. Work
  // submitted afterwards fails with UNAVAILABLE. Idempotent.
  void Stop();

  void Submit(std::vector<InputEvent> events, BatchDoneFn done);
  // Runs `task` on the worker thread between rounds (it may use the db —
  // writes through Transact — and the runner). After Stop() the task runs
  // with `stopped` = true on the caller's thread instead and must not touch
  // the db.
  void Post(std::function<void(bool stopped)> task);
  // Runs `body` in one transaction together with the outboxes' round work
  // (a task that appends a push: ResolveNotification): commits when it
  // returns OK (then wakes the senders), rolls back otherwise and returns
  // its status (SingleWriter::Transact, with its disk-full pause).
  // REQUIRES: on the worker thread (in a Post task).
  absl::Status Transact(absl::FunctionRef<absl::Status()> body);

  struct Stats {
    int64_t inputs_processed = 0;
    int64_t inputs_duplicate = 0;
    int64_t batches = 0;         // rounds committed
    int64_t batch_failures = 0;  // rounds rolled back
    // Deliveries waiting in the outboxes (mesh: summed over the peers; per
    // peer: Outbox::Stats).
    int64_t mesh_outbox_depth = 0;
    int64_t push_outbox_depth = 0;
    int64_t outbox_dropped = 0;  // mesh deliveries dropped by the per-peer bound
    // Times the worker held queued input batches back for the mesh sender.
    int64_t input_holds = 0;
    int64_t checkpoints = 0;    // WAL checkpoints run (here, by the checkpointer, backstops)
    int64_t inputs_pruned = 0;  // input keys forgotten (SeenIds' ttl)
  };
  Stats stats() const;

 private:
  class BatchJob;

  // InputGate (SingleWriter's lock held; any thread).
  bool Admit(size_t taken) override;
  // RoundParticipant, after the outboxes: the round's fan-out, and after the
  // commit its invocations and watched events.
  absl::Status AfterJobs() override;
  void Committed() override;
  void RolledBack() override;

  const Options options_;
  EventsDb* const db_;
  PipelineRunner* const runner_;
  MeshPublisher* const publisher_;
  Outbox* const mesh_outbox_;
  Outbox* const push_outbox_;
  InvocationTracker* const tracker_;
  WatchHub* const hub_;
  SingleWriter writer_;

  // The round in progress (writer thread only): what its jobs ran, handed on
  // after the commit.
  std::vector<RunResult> round_results_;
  std::vector<Invocation> round_invocations_;
  int64_t round_processed_ = 0;
  int64_t round_duplicate_ = 0;
  // Mesh deliveries per input event, slow to forget (read by Admit).
  std::atomic<double> mesh_fanout_{0};
  std::atomic<int64_t> inputs_processed_{0};
  std::atomic<int64_t> inputs_duplicate_{0};
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_PIPELINE_WORKER_H_
