// The executor that owns one SQLite database: the only thread that writes
// it (STYLE "one writer per SQLite database; batches, not rows"). Used by
// egress's pipeline worker (events.db), the installer (installer.db) and
// ingress's quarantine store (ingress.db).
//
// Work arrives three ways:
//  - input jobs (Submit): taken in rounds — everything queued, up to
//    max_round_weight, while the InputGate admits them — and applied in ONE
//    transaction per round, together with every RoundParticipant's work;
//    after the COMMIT each job is told (WriterJob::Finish), then the
//    participants. A failed round has no effect at all; each job gets the
//    error, and the writer pauses (50 ms doubling to 5 s) before the next
//    round so a database that keeps failing is not spun on. An idle writer
//    starts a round as soon as a job arrives (nothing waits for a batch to
//    fill).
//  - tasks (Run / Post): run between rounds, outside any transaction; a task
//    that writes opens one with Transact(), which includes the participants.
//  - participants' own work (RoundParticipant::HasWork, e.g. an outbox
//    sender's progress): a round without jobs.
// A round that fails because the disk is full (SQLITE_FULL) is followed by a
// TRUNCATE checkpoint (the WAL's space is given back) before the pause. A
// Transact that fails so does the same, and later Transacts fail fast with
// that error (nothing is tried, nothing written) until the pause — the same
// 50 ms doubling to 5 s, shared with the rounds — is over; any commit ends
// it. Readers in tasks are never held back by it. While write_health says
// the disk is full and nothing else writes, the writer tries a write of its
// own after each pause, in a turn of its loop that wrote nothing else (it
// rewrites PRAGMA user_version with its value, in a Transact): the condition
// ends once space is back, even on a database that is rarely written.
// Between rounds: chores (WriterChore: pruning) and checkpoints. The owner
// opens its database without SQLite's auto-checkpoint (which runs inside the
// COMMIT that takes the WAL past 1000 pages, before that round's work is
// acknowledged); the writer checkpoints (PASSIVE) after a round once the WAL
// holds checkpoint_idle_pages — or checkpoint_busy_pages while input of at
// least checkpoint_backlog_weight waits: a checkpoint costs two fsyncs
// whatever its size (doc/events-db.md "Checkpoints").
//
// Thread-safe: every public method may be called from any thread, except
// Transact (writer thread only) and the Add*/Set* calls (before Start).
#ifndef TELECLAUDE_MESH_COMMON_DELIVERY_SINGLE_WRITER_H_
#define TELECLAUDE_MESH_COMMON_DELIVERY_SINGLE_WRITER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/delivery/backoff.h"
#include "common/delivery/input_gate.h"
#include "common/delivery/round_participant.h"
#include "common/delivery/waker.h"
#include "common/delivery/writer_chore.h"
#include "common/delivery/writer_job.h"
#include "common/sqlite/database.h"
#include "common/sqlite/wal_checkpointer.h"
#include "common/sqlite/write_health.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

class SingleWriter : public Waker {
 public:
  struct Options {
    std::string name;  // for logs, e.g. "events.db"
    size_t max_round_weight = 1024;
    // Chores are looked at at least this often while idle.
    absl::Duration idle_wake = absl::Seconds(1);
    // While the gate holds inputs, it is asked again this often even
    // without a Wake().
    absl::Duration gate_recheck = absl::Milliseconds(200);
    int checkpoint_idle_pages = 1000;  // 0 = the writer never checkpoints
    int checkpoint_busy_pages = 8000;
    size_t checkpoint_backlog_weight = 512;
    // When set, the writer only tells it the WAL's size after each commit;
    // checkpoints run on its own connection and thread and never stall this
    // one (the checkpoint_* fields above are then unused). Not owned.
    WalCheckpointer* checkpointer = nullptr;
    // When set, told of every commit and failed round (disk full -> health).
    // Not owned.
    WriteHealth* write_health = nullptr;
    const Clock* clock = Clock::Real();  // `now` of the chores
  };

  struct Stats {
    int64_t rounds = 0;          // committed transactions of rounds
    int64_t round_failures = 0;  // rounds rolled back
    int64_t jobs = 0;            // jobs committed
    int64_t input_holds = 0;     // times the gate held queued input back
    int64_t checkpoints = 0;
  };

  // `db` is not owned and must outlive the writer; nothing else may use it
  // while the writer runs (other threads read through connections of their
  // own).
  SingleWriter(Options options, Database* db);
  ~SingleWriter() override;  // Stop()
  SingleWriter(const SingleWriter&) = delete;
  SingleWriter& operator=(const SingleWriter&) = delete;

  // Before Start(); not owned, must outlive the writer. Participants take
  // part in registration order.
  void AddParticipant(RoundParticipant* participant);
  void AddChore(WriterChore* chore);
  void SetInputGate(InputGate* gate);

  // Work may be queued before Start(); it runs then.
  void Start();
  // Runs what is queued (tasks, then jobs — the gate no longer holds them),
  // then ends the thread. Afterwards Submit fails the job with UNAVAILABLE,
  // Post runs the task with stopped = true on the caller's thread, Run
  // returns UNAVAILABLE. Idempotent.
  void Stop();

  // An input job (subject to the gate).
  void Submit(std::unique_ptr<WriterJob> job);
  // Runs `task` on the writer thread between rounds; after Stop() on the
  // caller's thread with stopped = true (it must not touch the database).
  void Post(std::function<void(bool stopped)> task);
  // Runs `task` on the writer thread and returns its result (absl::Status or
  // absl::StatusOr<T>); UNAVAILABLE "<name> is shutting down" after Stop().
  // REQUIRES: not on the writer thread.
  template <typename F>
  std::invoke_result_t<F> Run(F task);

  // Runs `body` in one transaction together with the participants' work
  // (as a round does): commits when body returns OK, rolls back otherwise
  // and returns its status. Commits and failures are reported to
  // Options::write_health as a round's are; after a disk-full failure (and
  // until its pause is over) it returns at once, without running `body`, an
  // error IsDiskFull recognises: UNAVAILABLE "<name>: the disk is full;
  // writes are paused until <time>: <the last error>". REQUIRES: on the
  // writer thread (in a task).
  absl::Status Transact(absl::FunctionRef<absl::Status()> body);

  // Something changed that a participant's HasWork or the gate depend on.
  void Wake() override;

  bool OnWriterThread() const { return std::this_thread::get_id() == thread_id_.load(); }
  Stats stats() const;
  // Input weight waiting in the queue.
  size_t queued_weight() const;
  Database* db() const { return db_; }

 private:
  void Loop();
  bool AnyParticipantWork() const;
  // BEGIN, the participants' BeforeJobs, `body`, their AfterJobs, COMMIT;
  // the first error stops it (the transaction rolls back). The caller tells
  // the participants and write_health.
  absl::Status InTransaction(absl::FunctionRef<absl::Status()> body);
  // One round: `jobs` (maybe none) in one transaction with the participants.
  // False when it failed (rolled back).
  bool RunRound(std::vector<std::unique_ptr<WriterJob>> jobs);
  void MaybeCheckpoint();
  // After a failed transaction: tells write_health; on a full disk gives the
  // WAL's space back (TRUNCATE checkpoint). True when the disk is full.
  bool AfterFailure(const absl::Status& status);
  // While write_health reports a full disk and the pause is over: a write
  // that changes nothing (see the class comment), to find out whether space
  // is back.
  void ProbeWhileDiskFull();
  // After a task or a round: chores due now; true when one wants to go on.
  bool RunChores();

  const Options options_;
  Database* const db_;
  std::vector<RoundParticipant*> participants_;
  std::vector<WriterChore*> chores_;
  InputGate* gate_ = nullptr;
  std::atomic<std::thread::id> thread_id_{};
  // Writer thread only: the pause after failures (rounds and Transact), and
  // for Transact the time before which it fails fast with disk_full_error_.
  Backoff failure_backoff_{absl::Milliseconds(50), absl::Seconds(5)};
  absl::Time transact_paused_until_ = absl::InfinitePast();
  // This turn of the loop ran a round or a Transact (even one that failed
  // fast within a pause): no test write of the writer's own after it.
  bool wrote_this_turn_ = false;
  absl::Status disk_full_error_;

  mutable absl::Mutex mu_;
  std::deque<std::unique_ptr<WriterJob>> jobs_ ABSL_GUARDED_BY(mu_);
  size_t queued_weight_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::function<void(bool)>> tasks_ ABSL_GUARDED_BY(mu_);
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;  // the thread has ended
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

template <typename F>
std::invoke_result_t<F> SingleWriter::Run(F task) {
  using R = std::invoke_result_t<F>;
  CHECK(!OnWriterThread()) << options_.name << ": Run() from the writer thread would wait forever";
  std::optional<R> result;
  absl::Notification done;
  Post([&](bool stopped) {
    if (stopped) {
      result.emplace(absl::UnavailableError(options_.name + " is shutting down"));
    } else {
      result.emplace(task());
    }
    done.Notify();
  });
  done.WaitForNotification();
  return *std::move(result);
}

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_DELIVERY_SINGLE_WRITER_H_
