// The mesh consumer (DESIGN §2, §3.3; doc/ingress.md "Stream and group"):
// consumer group `mesh-ingress` on `messages:{me}`, decode, trust gate, one
// Pipeline.Submit per batch, XACK only what egress confirmed.
//
// Reading is the delivery core's ConsumerGroupReader
// (common/delivery/consumer_group_reader.h): group creation, this consumer's
// pending entries first, idle entries claimed periodically, entries trimmed
// while pending, NOGROUP after Redis lost the group, reconnect backoff. This
// class is its BatchHandler, in two stages: on the reader's thread each
// batch is decoded, trust-gated and its quarantined entries committed; the
// submitter thread hands each prepared batch to egress (one Submit in
// flight, in read order) and settles with the reader the entries whose
// effects are committed (egress confirmed them, or they were answered
// transport requests / other parts' messages), which the reader then XACKs.
// While egress commits one batch the reader prepares the next (at most
// `max_prepared_batches` wait).
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_MESH_CONSUMER_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_MESH_CONSUMER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/delivery/backoff.h"
#include "common/delivery/batch_handler.h"
#include "common/delivery/consumer_group_reader.h"
#include "common/mesh/mesh_message.h"
#include "common/redis/redis_client.h"
#include "services/ingress/mesh_entry_decoder.h"
#include "services/ingress/pipeline_client.h"
#include "services/ingress/quarantine_store.h"
#include "services/ingress/transport_responder.h"
#include "services/ingress/trust_evaluator.h"

namespace teleclaude::mesh {

inline constexpr std::string_view kIngressGroup = kMeshIngressGroup;

// Counters since the process started (doc/ingress.md "Counters").
struct IngressCounters {
  int64_t received = 0;     // mesh_event entries read (a re-read entry counts again)
  int64_t accepted = 0;     // handed to egress (flagged ones included)
  int64_t flagged = 0;      // accepted with _trust_flags
  int64_t quarantined = 0;  // stored in quarantined_events
  std::map<std::string, int64_t> rejected_by_reason;  // mesh.event.rejected by reason
  int64_t malformed = 0;         // refused for their form (malformed + too_large)
  int64_t non_mesh_ignored = 0;  // other `type`s, acknowledged and left alone
  int64_t submit_retries = 0;    // failed Submit attempts (egress down, ...)
  int64_t batches = 0;           // batches fully handled
  std::string last_entry_id;     // the newest entry handled
};

// Owns its threads (the reader's and the submitter) and their Redis
// connections. Thread-safe: Start/Stop/
// Counters may be called from any thread. The trust gate, the store and the
// pipeline client are not owned and must outlive the consumer.
class MeshConsumer : private BatchHandler {
 public:
  struct Options {
    RedisClientOptions redis;
    std::string computer_name;  // consumer name and reflection check
    std::string stream;         // "messages:{computer_name}"
    std::string group = std::string(kIngressGroup);
    int batch_size = 256;
    // Prepared batches waiting for the submitter; the reader waits beyond.
    int max_prepared_batches = 2;
    absl::Duration block = absl::Milliseconds(200);
    // XAUTOCLAIM entries left pending longer than this (other consumers'
    // and this one's stranded ones), at start and then every `claim_every`.
    absl::Duration claim_min_idle = absl::Seconds(60);
    absl::Duration claim_every = absl::Seconds(30);
    absl::Duration backoff_min = absl::Milliseconds(50);
    absl::Duration backoff_max = absl::Seconds(2);
    int64_t max_message_bytes = 1 << 20;
    // Largest Submit request; a batch above it is sent in several calls.
    int64_t submit_max_bytes = 4 << 20;
    // When set, nothing is read before it returns true (polled every 50 ms):
    // the trust gate must know the live peers before it judges anything.
    std::function<bool()> can_read;
    // When set, entries that are not mesh events go to it first (TeleClaude
    // transport requests get their answer) and are acknowledged only once it
    // returned OK; not owned, must outlive the consumer.
    TransportResponder* transport = nullptr;
    // Authenticates each mesh message before the trust gate
    // (doc/security.md §10.3); not owned, must outlive the consumer.
    const MessageAuthenticator* authenticator = nullptr;
  };

  MeshConsumer(Options options, const TrustEvaluator* trust, QuarantineStore* quarantine,
               PipelineClient* pipeline);
  ~MeshConsumer() override;  // Stop()
  MeshConsumer(const MeshConsumer&) = delete;
  MeshConsumer& operator=(const MeshConsumer&) = delete;

  // Starts the threads: creates the group at `$` (MKSTREAM) when missing —
  // retrying while Redis is down; at `0` when it must be created again
  // after NOGROUP — then reads this consumer's pending entries, then new
  // ones.
  void Start();
  // Stops reading. A Submit in flight completes and its confirmed entries
  // are acknowledged; a batch waiting to retry, and prepared batches not
  // submitted yet, are handed back (their entries stay pending and are read
  // again at the next start; answered transport requests and other parts'
  // messages among them are acknowledged). Idempotent.
  void Stop();

  IngressCounters Counters() const;
  // True once the group exists (created or found) and `can_read` allowed
  // reading.
  bool ready() const { return reader_->ready(); }
  // The reader's counters (claimed, vanished, NOGROUP recoveries, ...).
  ConsumerGroupReader::Counters ReaderCounters() const { return reader_->counters(); }

 private:
  // A batch read, decoded and trust-gated, waiting to be submitted.
  struct PreparedBatch {
    uint64_t batch_id = 0;                     // the reader's, for Settle
    std::vector<std::string> ack;              // entries acknowledged as they are
    std::vector<v1::SubmittedEvent> events;    // for one Submit
    std::vector<std::string> event_entry_ids;  // the entry each event stands for
    std::string last_entry_id;
  };

  // BatchHandler (the reader's thread).
  void HandleBatch(StreamBatch batch) override;
  bool ReadyToRead() override;

  void RunSubmitter();
  // Reader stage of one batch: decode, trust gate, quarantine (committed),
  // counters; then queues it for the submitter (waits while the queue is
  // full). False when stopping (the batch is settled with what is
  // committed; the rest stays pending).
  bool ProcessBatch(uint64_t batch_id, const std::vector<StreamEntry>& entries);
  // Submitter stage: Submit, then settle with the reader what egress
  // confirmed; returns when every event is confirmed, or on Stop (the rest
  // stays pending).
  void Deliver(PreparedBatch batch);
  // Waits backoff.Next(); false when stopping.
  bool Pause(Backoff& backoff);
  bool stopping() const { return stop_.HasBeenNotified(); }

  const Options options_;
  const MeshEntryDecoder decoder_;
  const TrustEvaluator* const trust_;
  QuarantineStore* const quarantine_;
  PipelineClient* const pipeline_;
  std::unique_ptr<ConsumerGroupReader> reader_;

  absl::Notification stop_;
  std::thread submit_thread_;

  absl::Mutex queue_mu_;
  std::deque<PreparedBatch> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool queue_stop_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::atomic<bool> started_{false};

  mutable absl::Mutex mu_;
  IngressCounters counters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_MESH_CONSUMER_H_
