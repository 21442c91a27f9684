// A durable outbox with progress per destination: messages written in the
// owner's SQLite transaction, together with the effects that produced them,
// and delivered afterwards by an OutboxSender (outbox_sender.h) through an
// OutboxTransport. A destination that is slow, full or dead holds back only
// itself. Used for egress's mesh forwards and installer pushes and for the
// installer's messages to egress (doc/architecture.md "The delivery core").
//
// Storage (in the owner's database; Outbox::Schema(name) for its migration;
// doc/events-db.md "Outboxes"):
//   outbox_{name}            one row per message: seq (append order, never
//                            reused), its audience, message id, body — the
//                            body once for all its destinations;
//   outbox_{name}_audiences  the distinct destination lists ('\n'-separated);
//   outbox_{name}_cursors    per destination, next_seq: every row below it is
//                            done (delivered, refused or dropped) for it.
// Appending costs one insert per message; delivered rows leave by range
// (every row below the lowest cursor of a destination that still has rows to
// receive), never one by one.
//
// Message ids are stable: the row's message_id, followed by the destination
// when Options::id_per_destination — so a message sent again after a crash
// (its progress not yet recorded) carries the same id and the receiver drops
// the copy (at-least-once sending, effectively-once effects).
//
// Bound: at most max_per_destination messages wait for one destination; when
// a round leaves more, its oldest are dropped (its cursor moves on) in the
// same transaction, counted per destination; the first drop of an episode is
// reported to the OutboxObserver once (outbox_observer.h).
//
// Threads. The writer thread (the owner's SingleWriter) appends and runs the
// RoundParticipant hooks; the sender reports progress and reads the
// committed view; anyone reads Stats. Every public method says which.
#ifndef TELECLAUDE_MESH_COMMON_DELIVERY_OUTBOX_H_
#define TELECLAUDE_MESH_COMMON_DELIVERY_OUTBOX_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/delivery/outbox_observer.h"
#include "common/delivery/round_participant.h"
#include "common/delivery/waker.h"
#include "common/sqlite/database.h"

namespace teleclaude::mesh {

// One destination as operators see it (Pipeline.Stats, telec status).
// Counters are since the process started. Value type.
struct DestinationStats {
  std::string destination;
  int64_t depth = 0;        // messages waiting for it (committed)
  int64_t sent = 0;         // delivered
  int64_t refused = 0;      // refused for good by the transport
  int64_t dropped = 0;      // dropped by the bound
  int64_t held_rounds = 0;  // sender rounds that flow control held it back
  bool held = false;        // flow control holds it back now
  bool failing = false;     // its last send failed (retrying with backoff)
  bool dropping = false;    // in a drop episode (outbox_observer.h)
  std::string last_error;   // of the last failed send
};

// Whole-outbox figures. Value type.
struct OutboxTotals {
  int64_t depth = 0;  // sum of the destinations' depths
  int64_t sent = 0;
  int64_t refused = 0;
  int64_t dropped = 0;    // by the bound
  int64_t forgotten = 0;  // dropped because their destination was forgotten
};

// The sender's picture of what is committed (outbox_sender.h). Immutable.
struct OutboxView {
  int64_t end = 1;  // every committed row has seq < end
  // Destinations with messages waiting, and their committed cursors.
  std::map<std::string, int64_t, std::less<>> cursors;
  // Bumped whenever a destination is forgotten.
  int64_t forget_epoch = 0;
};

// A sender's progress for one destination: rows [from, to) are done for it,
// `delivered` + `refused` of them were addressed to it.
struct DestinationProgress {
  std::string destination;
  int64_t from = 0;
  int64_t to = 0;
  int64_t delivered = 0;
  int64_t refused = 0;
  // The round's outcome for the destination (for stats and back-pressure).
  bool held = false;      // flow control held some back
  bool failed = false;    // the send failed; retrying
  bool draining = false;  // everything offered went out
  std::string error;      // with failed
};

class Outbox : public RoundParticipant {
 public:
  struct Options {
    std::string name;  // table names outbox_{name}..., logs, stats
    // Messages waiting for one destination at most; 0 = no bound (never
    // drop: the installer's outboxes).
    int64_t max_per_destination = 0;
    // Message id = row message_id + destination (mesh) or the row's alone.
    bool id_per_destination = false;
    const Clock* clock = Clock::Real();
  };

  // The CREATE statements of the tables, for the owner's migration.
  static std::string Schema(std::string_view name);

  // Reads the committed state (cursors, audiences, the backlog per
  // destination: one scan of the outbox). `db` is the writer's connection;
  // `writer` is woken when the sender reports (HasWork) — it may be null
  // here and attached later (AttachWriter), before rounds run; `observer`
  // may be null. None owned; all must outlive the outbox. Writer thread,
  // before the writer runs rounds.
  static absl::StatusOr<std::unique_ptr<Outbox>> Open(Database* db, Options options, Waker* writer,
                                                      OutboxObserver* observer);
  ~Outbox() override;

  // The sender to wake when rows are committed (outbox_sender.h calls it).
  void AttachSender(Waker* sender);
  // The writer to wake when there is work for a round (when the owner's
  // writer is built after the outbox).
  void AttachWriter(Waker* writer);

  // --- writer thread, inside a transaction (a round or Transact) ---------
  // Appends `body` for `destinations` (in send order; non-empty names
  // without control characters — spaces are fine —, no repeats). Returns its seq. INVALID_ARGUMENT
  // for an empty list or a bad name (nothing written).
  absl::StatusOr<int64_t> Append(const std::vector<std::string_view>& destinations,
                                 std::string_view message_id, std::string_view body);

  // --- RoundParticipant (writer thread) -----------------------------------
  bool HasWork() const override { return has_work_.load(); }
  absl::Status BeforeJobs() override;
  absl::Status AfterJobs() override;
  void Committed() override;
  void RolledBack() override;

  // --- any thread ---------------------------------------------------------
  // Drops every message waiting for `destination` (counted as forgotten, not
  // as dropped by the bound) and forgets it, in the next transaction.
  void Forget(std::string destination);
  // Back-pressure (an owner's InputGate): true while some destination the
  // sender is draining (its sends go out whole: not held, not failing)
  // holds at least half the bound, counting `extra` more messages.
  // Always false without a bound.
  bool ShouldHoldInputs(int64_t extra) const;
  std::vector<DestinationStats> Stats() const;
  OutboxTotals Totals() const;
  const Options& options() const { return options_; }

  // --- the sender's side (any thread) --------------------------------------
  std::shared_ptr<const OutboxView> View() const;
  // Applied in the next transaction (the writer is woken).
  void Report(std::vector<DestinationProgress> progress);
  // The destination list of `audience` (as stored); NOT_FOUND when unknown.
  // Reads through `db` (the caller's connection).
  static absl::StatusOr<std::vector<std::string>> ReadAudience(Database* db, std::string_view name,
                                                               int64_t audience);

 private:
  struct Audience {
    int64_t id = 0;
    std::vector<std::string> destinations;  // in send order
  };
  // Committed state of one destination (writer thread).
  struct Dest {
    int64_t cursor = 0;  // rows below are done for it
    int64_t depth = 0;   // rows at or above cursor addressed to it
    bool dropping = false;
    absl::Time episode_since;
    int64_t episode_dropped = 0;
  };
  // Report of one destination merged over several sender rounds.
  struct Merged {
    int64_t from = 0;
    int64_t to = 0;
    int64_t done = 0;        // delivered + refused
    bool contiguous = true;  // the reports chain from -> to without gaps
  };
  // What this transaction changes, applied by Committed (writer thread).
  struct Staged {
    std::map<std::string, Dest, std::less<>> dests;      // changed destinations (new values)
    std::vector<std::string> removed;                    // forgotten
    std::map<std::string, Merged, std::less<>> reports;  // taken from reports_
    std::vector<std::string> forgets;                    // taken from forget_requests_
    std::vector<DropEpisode> episodes;                   // started
    int64_t dropped = 0;
    std::map<std::string, int64_t, std::less<>> dropped_by;  // per destination
    int64_t forgotten = 0;
    int64_t next_seq = 0;      // after the appends
    int64_t pruned_below = 0;  // rows below were deleted
    std::vector<int64_t> new_audiences;
    // Appended per audience: count, first seq.
    std::map<int64_t, std::pair<int64_t, int64_t>> appended;
    bool changed = false;
  };

  Outbox(Database* db, Options options, Waker* writer, OutboxObserver* observer);
  absl::Status Load();
  // The audience of `destinations`, interned (inserted in this transaction
  // when new).
  absl::StatusOr<const Audience*> Intern(const std::vector<std::string_view>& destinations);
  // Staged (or committed) state of `name`, copied into staged_ for change.
  Dest& Stage(std::string_view name);
  // Rows at or above `from` addressed to `name`, by scanning.
  absl::StatusOr<int64_t> CountFrom(std::string_view name, int64_t from);
  // The cursor past the `count` oldest rows addressed to `name` at or above
  // `from`; returns that cursor and how many were passed.
  absl::StatusOr<std::pair<int64_t, int64_t>> SkipFrom(std::string_view name, int64_t from,
                                                       int64_t count);
  bool InAudience(int64_t audience, std::string_view name) const;
  void PublishView() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Database* const db_;
  const Options options_;
  OutboxObserver* const observer_;
  const std::string table_;            // outbox_{name}
  const std::string audiences_table_;  // outbox_{name}_audiences
  const std::string cursors_table_;    // outbox_{name}_cursors
  const std::string insert_sql_;       // the statement cache's key, built once

  // Writer thread only.
  std::map<std::string, Dest, std::less<>> dests_;
  std::unordered_map<int64_t, Audience> audiences_;
  std::unordered_multimap<size_t, int64_t> audience_by_hash_;
  int64_t next_seq_ = 1;
  int64_t pruned_below_ = 0;  // the outbox holds no row below this
  Staged staged_;

  std::atomic<bool> has_work_{false};
  mutable absl::Mutex mu_;
  Waker* sender_ ABSL_GUARDED_BY(mu_) = nullptr;
  Waker* writer_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::map<std::string, Merged, std::less<>> reports_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> forget_requests_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const OutboxView> view_ ABSL_GUARDED_BY(mu_);
  int64_t forget_epoch_ ABSL_GUARDED_BY(mu_) = 0;
  // Stats, by destination (sender side + committed depths).
  std::map<std::string, DestinationStats, std::less<>> stats_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, bool, std::less<>> draining_ ABSL_GUARDED_BY(mu_);
  OutboxTotals totals_ ABSL_GUARDED_BY(mu_);
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_DELIVERY_OUTBOX_H_
