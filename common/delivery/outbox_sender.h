// Delivers an Outbox (outbox.h): a thread that reads the committed rows
// through its own connection to the owner's database (the owner's writer
// stays the only writer), sends them with an OutboxTransport and reports
// its progress per destination back to the outbox, which records it in the
// owner's next transaction.
//
// Each destination advances on its own cursor. A round: take the committed
// view; every destination with rows beyond its cursor that is not pausing
// is served — destinations at the same position share one read of the rows
// (a public event is read once for all its peers); ask the transport for
// room (flow control) and send at most that much to each; send everything
// in one call. Then per destination:
//   - all went out: it advances past the rows read (rows meant for others
//     are skipped), counts as draining, is served again at once;
//   - flow control held some back: it stops at the first held message and
//     pauses hold_min doubling to hold_max (while the others go on);
//   - the send failed: it stops at the first message not sent and pauses
//     with backoff (backoff_min doubling to backoff_max), one log line when
//     it starts failing and one every 10 s after;
//   - refused messages (the transport's per-message refusals) count as done.
// A message sent whose progress is lost in a crash is sent again with the
// same message id (the receiver drops the copy).
//
// Thread-safe: Start/Stop/Wake from any thread.
#ifndef TELECLAUDE_MESH_COMMON_DELIVERY_OUTBOX_SENDER_H_
#define TELECLAUDE_MESH_COMMON_DELIVERY_OUTBOX_SENDER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/delivery/backoff.h"
#include "common/delivery/outbox.h"
#include "common/delivery/outbox_transport.h"
#include "common/delivery/waker.h"
#include "common/sqlite/database.h"

namespace teleclaude::mesh {

class OutboxSender : public Waker {
 public:
  struct Options {
    std::string db_path;        // the owner's database file
    int max_deliveries = 2048;  // messages per round, all destinations together
    int max_rows = 1024;        // rows per read
    absl::Duration backoff_min = absl::Milliseconds(50);
    absl::Duration backoff_max = absl::Seconds(5);
    absl::Duration hold_min = absl::Milliseconds(50);
    absl::Duration hold_max = absl::Milliseconds(200);
    // The view is looked at at least this often without a Wake().
    absl::Duration poll = absl::Seconds(1);
  };

  // Neither owned; both must outlive the sender. Attaches itself to the
  // outbox (which wakes it when rows are committed).
  OutboxSender(Options options, Outbox* outbox, OutboxTransport* transport);
  ~OutboxSender() override;  // Stop()
  OutboxSender(const OutboxSender&) = delete;
  OutboxSender& operator=(const OutboxSender&) = delete;

  // Opens the read connection and starts the thread. Errors: the database
  // cannot be opened.
  absl::Status Start();
  // Ends the thread (a send in progress finishes). Idempotent.
  void Stop();
  // Committed rows wait.
  void Wake() override;

 private:
  struct Row {
    int64_t seq = 0;
    int64_t audience = 0;
    std::string message_id;
    std::string body;
  };
  struct DestState {
    int64_t cursor = 0;
    absl::Time paused_until = absl::InfinitePast();
    Backoff fail_backoff;
    Backoff hold_backoff;
    bool failing = false;
    absl::Time last_error_log = absl::InfinitePast();
    int64_t errors_since_log = 0;
  };

  void Run();
  // One round; false when there was nothing to send (the caller waits until
  // `*wait_until`).
  bool Round(absl::Time* wait_until);
  absl::Status ReadRows(int64_t from, int limit, std::vector<Row>* rows);
  // The destinations of `audience` (cached; read on first sight).
  absl::StatusOr<const std::vector<std::string>*> AudienceOf(int64_t audience);
  DestState& State(const std::string& name);
  // Waits until `deadline`, Stop() or Wake().
  void Wait(absl::Time deadline);

  const Options options_;
  Outbox* const outbox_;
  OutboxTransport* const transport_;
  std::unique_ptr<Database> db_;  // the thread's own connection
  std::string read_sql_;

  // Sender thread only.
  std::map<std::string, DestState, std::less<>> states_;
  std::unordered_map<int64_t, std::vector<std::string>> audiences_;
  int64_t forget_epoch_ = 0;
  int rows_per_read_ = 0;

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_DELIVERY_OUTBOX_SENDER_H_
