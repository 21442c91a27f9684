// Reads one Redis stream as one consumer of a consumer group and hands the
// entries to its owner in batches; acknowledges an entry only once the owner
// says its effects are committed. The one implementation of "read a stream
// in a group, act, commit, then acknowledge" (egress's local stream, ingress's
// mesh inbox; doc/architecture.md "The delivery core").
//
// What it does, in order:
//  1. creates the group (XGROUP CREATE ... MKSTREAM) at Options::start_id,
//     retrying while Redis is down; then waits for BatchHandler::ReadyToRead;
//  2. hands over this consumer's own pending entries (XREADGROUP 0: after a
//     restart, entries delivered to it and never acknowledged);
//  3. claims idle entries (XAUTOCLAIM, idle longer than claim_min_idle —
//     entries of consumers that died, and its own stranded ones) at start and
//     every claim_every;
//  4. reads new entries (XREADGROUP >, COUNT count) with a blocking read: an
//     entry that arrives while it waits is returned at once, so an idle
//     reader adds no latency; while batches are in flight or acknowledgements
//     wait it blocks at most busy_block so acks go out promptly;
//  5. acknowledges (XACK) what the owner settled as committed, before its
//     next read: in the same round trip as the next read of new entries
//     (RedisClient::XAckThenReadGroup), on its own before any other command.
// At most max_batches_in_flight batches are handed over and not yet settled.
//
// Failures:
//  - an entry deleted or trimmed from the stream while pending (XREADGROUP 0
//    returns it without fields, XAUTOCLAIM lists it as deleted) cannot have
//    an effect: it is acknowledged, counted `vanished`, never handed over;
//  - NOGROUP (Redis restarted without persistence, the stream or group was
//    deleted): the group is created again at recreate_start_id and reading
//    goes on; acknowledgements for the old group are dropped;
//  - a read that fails on the connection (Redis died mid-reply, a timeout):
//    the entries Redis may have delivered without the reply reaching us are
//    pending for this consumer, so once the batches in flight are settled the
//    reader re-reads its own pending entries (step 2) — nothing stays
//    stranded until a restart;
//  - a batch settled with entries missing (the owner's commit failed): after
//    a backoff (new entries are read meanwhile), once nothing is in flight,
//    the reader re-reads its pending entries, which hands the missing ones
//    over again; while passes keep failing the backoff grows to its max, so
//    one entry that never commits is retried every backoff_max and does not
//    hold back the entries behind it. While batches of new entries fail, no
//    new entry is read until the next pass (one batch of new entries after
//    each pass), so a failing owner is not fed the stream.
// Every wait after a failure uses one Backoff (backoff_min doubling to
// backoff_max).
//
// Thread-safe: Start/Stop from the owner; Settle from any thread; the
// getters from any thread. The reader owns its thread and its Redis
// connection; the handler is not owned and must outlive it.
#ifndef TELECLAUDE_MESH_COMMON_DELIVERY_CONSUMER_GROUP_READER_H_
#define TELECLAUDE_MESH_COMMON_DELIVERY_CONSUMER_GROUP_READER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/delivery/backoff.h"
#include "common/delivery/batch_handler.h"
#include "common/redis/redis_client.h"

namespace teleclaude::mesh {

class ConsumerGroupReader {
 public:
  struct Options {
    RedisClientOptions redis;
    std::string stream;
    std::string group;
    std::string consumer;  // stable across restarts, so a restart finds its pending entries
    // Where the group starts when this reader creates it: "0" = everything
    // already in the stream, "$" = only what is added from now on.
    std::string start_id = "$";
    // Where it starts when it must be created again after NOGROUP: what the
    // stream holds then was written after Redis lost the group.
    std::string recreate_start_id = "0";
    int count = 256;  // entries per read
    absl::Duration block = absl::Milliseconds(100);
    absl::Duration busy_block = absl::Milliseconds(5);
    int max_batches_in_flight = 2;
    absl::Duration claim_min_idle = absl::Seconds(60);
    absl::Duration claim_every = absl::Seconds(30);
    int claim_pages = 16;  // XAUTOCLAIM pages per claim round
    absl::Duration backoff_min = absl::Milliseconds(50);
    absl::Duration backoff_max = absl::Seconds(2);
    absl::Duration lag_every = absl::Seconds(1);  // how often lag() is read (XINFO GROUPS)
    // Schedules claims and lag reads (tests inject one).
    const Clock* clock = Clock::Real();
  };

  // Since construction.
  struct Counters {
    int64_t entries_read = 0;        // handed over (an entry handed again counts again)
    int64_t entries_acked = 0;       // XACKed (vanished ones included)
    int64_t vanished = 0;            // gone from the stream while pending: acked, not handed
    int64_t claimed = 0;             // handed over from XAUTOCLAIM
    int64_t nogroup_recoveries = 0;  // times the group was created again after NOGROUP
    int64_t read_errors = 0;         // failed reads (NOGROUP included)
    int64_t pending_rereads = 0;     // times the own pending entries were read again
  };

  ConsumerGroupReader(Options options, BatchHandler* handler);
  ~ConsumerGroupReader();  // Stop()
  ConsumerGroupReader(const ConsumerGroupReader&) = delete;
  ConsumerGroupReader& operator=(const ConsumerGroupReader&) = delete;

  // Starts the thread. Once only.
  void Start();
  // Stops reading, waits until every batch handed over is settled (the
  // handler must settle them: committed, or given back), acknowledges what
  // was committed (a few attempts; what cannot be acknowledged stays pending
  // and is a duplicate of committed work at the next start). Idempotent.
  void Stop();

  // The owner's verdict on batch `batch_id`: `committed` entries (ids of that
  // batch) have their effects committed and are acknowledged; any entry of
  // the batch not named stays pending and is handed over again (see above).
  // Exactly once per batch.
  void Settle(uint64_t batch_id, std::vector<std::string> committed);

  // True once the group exists and the handler was ready to read.
  bool ready() const { return ready_.load(); }
  // The group's lag (Redis 7+), -1 when unknown.
  int64_t lag() const { return lag_.load(); }
  Counters counters() const;
  const Options& options() const { return options_; }

 private:
  enum class ReadResult { kOk, kRetry, kStop };
  void Run();
  // XGROUP CREATE at `start_id` (MKSTREAM; an existing group is fine).
  absl::Status CreateGroup(RedisClient& redis, const std::string& start_id);
  // Hands `entries` over as one batch (acks the vanished ones).
  void Hand(StreamBatch::Origin origin, std::vector<StreamEntry> entries);
  // XACKs the settled entries; false on an I/O error (they are kept).
  bool FlushAcks(RedisClient& redis);
  // FlushAcks; after an I/O error, waits a backoff before returning false.
  bool FlushAcksOrWait(RedisClient& redis);
  // Books the outcome of XACKing `ids` (taken from acks_): counted when
  // done, dropped on NOGROUP, put back otherwise; false when put back.
  bool AfterAck(const absl::Status& status, std::vector<std::string> ids);
  void ClaimIdle(RedisClient& redis);
  // After a failed read: NOGROUP re-creates the group; any other error
  // waits a backoff. Either way the own pending entries are read again.
  void OnReadError(RedisClient& redis, const absl::Status& status);
  // Waits until fewer than `limit` batches are in flight; false when
  // stopping (unless `even_when_stopping`).
  bool WaitInFlightBelow(int limit, bool even_when_stopping = false);
  // Sleeps `d` unless Stop() is called; false when stopping.
  bool Sleep(absl::Duration d);
  bool stopping() const;

  const Options options_;
  BatchHandler* const handler_;
  Backoff redis_backoff_;    // reader thread only
  Backoff handler_backoff_;  // reader thread only

  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_batch_id_ ABSL_GUARDED_BY(mu_) = 0;
  struct InFlight {
    size_t entries = 0;  // handed over
    StreamBatch::Origin origin = StreamBatch::Origin::kNew;
  };
  std::map<uint64_t, InFlight> in_flight_ ABSL_GUARDED_BY(mu_);  // by batch id
  std::vector<std::string> acks_ ABSL_GUARDED_BY(mu_);
  bool reread_ ABSL_GUARDED_BY(mu_) = false;  // a batch settled incomplete
  // A batch of new entries settled incomplete since the last pass over the
  // pending entries: nothing new is read until that pass (the owner's
  // commits fail, e.g. its disk is full).
  bool new_failing_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;

  std::atomic<bool> ready_{false};
  std::atomic<int64_t> lag_{-1};
  std::atomic<int64_t> entries_read_{0};
  std::atomic<int64_t> entries_acked_{0};
  std::atomic<int64_t> vanished_{0};
  std::atomic<int64_t> claimed_{0};
  std::atomic<int64_t> nogroup_recoveries_{0};
  std::atomic<int64_t> read_errors_{0};
  std::atomic<int64_t> pending_rereads_{0};
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_DELIVERY_CONSUMER_GROUP_READER_H_
