// Delivers the installer pushes of events.db's `outbox` (doc/events-db.md).
// (Mesh messages moved to the delivery core's per-destination outbox,
// common/delivery/outbox_sender.h; the pushes will follow, and this class
// will go.) A background thread reads rows through its own
// read-only use of a connection (the pipeline worker stays the only writer),
// hands them in order, in batches, to a send function, and reports how far
// it got (OutboxProgress) so that the worker deletes the rows finished. On
// failure the same rows are retried with exponential backoff (logged
// rate-limited); nothing is dropped here.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_PUSH_SENDER_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_PUSH_SENDER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/egress/storage/events_db.h"

namespace teleclaude::mesh {

// Thread-safe.
class PushSender {
 public:
  struct Options {
    std::string name;  // for logs: "push"
    std::string db_path;
    OutboxKind kind = OutboxKind::kPush;
    // Rows read at most per batch.
    int batch_limit = 1024;
    // Deliveries handed to the send function at most per batch (at least one
    // row); 0 = batch_limit. The rows read per batch follow the deliveries
    // per row seen last.
    int delivery_limit = 0;
    absl::Duration backoff_min = absl::Milliseconds(50);
    absl::Duration backoff_max = absl::Seconds(5);
    // Longest pause while the send function holds rows back (flow control).
    absl::Duration hold_max = absl::Milliseconds(200);
    // Re-read the outbox at least this often even without Wake().
    absl::Duration poll = absl::Seconds(1);
  };
  // Sends the pending deliveries of `rows` (oldest row first; within a row,
  // destinations[done..] in order). Returns one status per delivery, in that
  // order — OK: delivered; not OK: refused for good (dropped, counted and
  // logged) — or an error: nothing counts as delivered and the batch is
  // retried. A shorter vector means only that prefix was attempted (flow
  // control): the other deliveries are kept and offered again, in order,
  // after a short pause. Called on the sender's thread only.
  using SendFn =
      std::function<absl::StatusOr<std::vector<absl::Status>>(const std::vector<OutboxRow>& rows)>;
  // How far the deliveries are done (delivered or refused): the owner
  // deletes the rows finished (EventsDb::FinishOutbox).
  using DoneFn = std::function<void(OutboxKind kind, OutboxProgress progress)>;
  // Rows whose send failed and will be retried (attempts + 1).
  using FailedFn = std::function<void(OutboxKind kind, std::vector<int64_t> ids)>;
  // draining() has just turned false (the sender went idle, failed or was
  // held back): whoever holds input back for it can stop waiting.
  using StoppedDrainingFn = std::function<void()>;

  // `stopped_draining` may be empty.
  PushSender(Options options, SendFn send, DoneFn done, FailedFn failed,
             StoppedDrainingFn stopped_draining = nullptr);
  ~PushSender();  // Stop()
  PushSender(const PushSender&) = delete;
  PushSender& operator=(const PushSender&) = delete;

  // Opens the read connection and starts the thread.
  absl::Status Start();
  // Stops the thread (a send in progress finishes). Idempotent.
  void Stop();
  // New rows were committed: read now.
  void Wake();

  // Deliveries.
  int64_t delivered() const { return delivered_.load(); }
  int64_t refused() const { return refused_.load(); }
  int64_t failed_attempts() const { return failed_attempts_.load(); }
  // Rounds in which the send function held rows back.
  int64_t held() const { return held_.load(); }
  // True while the last send failed (until one succeeds).
  bool failing() const { return failing_.load(); }
  // True while the sender is emptying the outbox: it has rows to send and
  // its last batch went out whole — not failed, not held back by flow
  // control. False when idle (nothing to send) or stuck.
  bool draining() const { return draining_.load(); }

 private:
  void Run();
  // Sets draining_; calls stopped_draining_ when it turns false.
  void SetDraining(bool draining);
  // Waits `d` or until Stop() (and Wake() when `wakeable`).
  void Wait(absl::Duration d, bool wakeable);

  const Options options_;
  const SendFn send_;
  const DoneFn done_;
  const FailedFn failed_;
  const StoppedDrainingFn stopped_draining_;
  std::unique_ptr<Database> db_;  // the thread's own connection
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
  std::atomic<int64_t> delivered_{0};
  std::atomic<int64_t> refused_{0};
  std::atomic<int64_t> held_{0};
  std::atomic<int64_t> failed_attempts_{0};
  std::atomic<bool> failing_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_PUSH_SENDER_H_
