// The local stream input (DESIGN §2, doc/wire.md "Local stream consumer"):
// consumer group `egress` on this computer's local stream, consumer name =
// computer name. At start: the group is created at `0` with MKSTREAM (events
// produced before egress first ran are processed too), this consumer's own
// pending entries are processed, entries idle > claim_idle of other
// consumers are claimed (XAUTOCLAIM), then new entries are read in batches
// (COUNT, short BLOCK). Each batch goes to the pipeline worker; its entries
// are XACKed only after the worker committed their effects. An entry that
// does not decode is XACKed and becomes a local `mesh.event.rejected` event
// (reason `malformed_local_entry`), never retried forever.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_LOCAL_STREAM_READER_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_LOCAL_STREAM_READER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/redis/redis_client.h"
#include "services/egress/pipeline/pipeline_worker.h"

namespace teleclaude::mesh {

// Thread-safe (Start/Stop from the owner; counters from anywhere).
class LocalStreamReader {
 public:
  struct Options {
    RedisClientOptions redis;
    std::string stream;
    std::string group = "egress";
    std::string consumer;       // the computer name
    std::string computer_name;  // source of rejection events
    int count = 512;
    absl::Duration block = absl::Milliseconds(100);
    absl::Duration claim_idle = absl::Seconds(30);
    int max_in_flight = 2;  // batches handed to the worker, not yet committed
    absl::Duration backoff_max = absl::Seconds(2);
  };

  LocalStreamReader(Options options, PipelineWorker* worker);
  ~LocalStreamReader();  // Stop()

  void Start();
  // Stops reading, waits for the batches in flight, XACKs what committed.
  // Idempotent.
  void Stop();

  int64_t entries_read() const { return entries_read_.load(); }
  int64_t entries_acked() const { return entries_acked_.load(); }
  int64_t malformed() const { return malformed_.load(); }
  // Lag of the group (Redis 7+), -1 when unknown.
  int64_t lag() const { return lag_.load(); }

 private:
  void Run();
  bool Setup(RedisClient& redis);
  // Converts and submits `entries`; false when nothing was submitted.
  void SubmitEntries(RedisClient& redis, std::vector<StreamEntry> entries);
  void AckCompleted(RedisClient& redis);
  void WaitInFlightBelow(int limit);

  const Options options_;
  PipelineWorker* const worker_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> to_ack_ ABSL_GUARDED_BY(mu_);
  bool batch_failed_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
  std::atomic<int64_t> entries_read_{0};
  std::atomic<int64_t> entries_acked_{0};
  std::atomic<int64_t> malformed_{0};
  std::atomic<int64_t> lag_{-1};
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_LOCAL_STREAM_READER_H_
