// The local stream input (DESIGN §2, doc/wire.md "Local stream consumer"):
// consumer group `egress` on this computer's local stream, consumer name =
// computer name, read by the delivery core's ConsumerGroupReader
// (common/delivery/consumer_group_reader.h): the group is created at `0` with
// MKSTREAM (events produced before egress first ran are processed too), this
// consumer's own pending entries are processed first and again after a failed
// read or batch (nothing stays stranded until a restart), idle entries are
// claimed (XAUTOCLAIM) at start and every claim_every, NOGROUP re-creates the
// group. Each batch goes to the pipeline worker; its entries are XACKed only
// after the worker committed their effects. An entry that does not decode is
// XACKed and becomes a local `mesh.event.rejected` event (reason
// `malformed_local_entry`), never retried forever.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_LOCAL_STREAM_READER_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_LOCAL_STREAM_READER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/delivery/batch_handler.h"
#include "common/delivery/consumer_group_reader.h"
#include "common/redis/redis_client.h"
#include "services/egress/pipeline/pipeline_worker.h"

namespace teleclaude::mesh {

// Thread-safe (Start/Stop from the owner; counters from anywhere).
class LocalStreamReader : public BatchHandler {
 public:
  struct Options {
    RedisClientOptions redis;
    std::string stream;
    std::string group = "egress";
    std::string consumer;       // the computer name
    std::string computer_name;  // source of rejection events
    int count = 512;
    absl::Duration block = absl::Milliseconds(100);
    // Entries idle this long (of any consumer, this one's stranded ones
    // too) are claimed, checked every claim_every.
    absl::Duration claim_idle = absl::Seconds(30);
    absl::Duration claim_every = absl::Seconds(30);
    int max_in_flight = 2;  // batches handed to the worker, not yet committed
    absl::Duration backoff_max = absl::Seconds(2);
  };

  LocalStreamReader(Options options, PipelineWorker* worker);
  ~LocalStreamReader() override;  // Stop()

  void Start();
  // Stops reading, waits for the batches in flight, XACKs what committed.
  // Idempotent.
  void Stop();

  int64_t entries_read() const { return reader_->counters().entries_read; }
  int64_t entries_acked() const { return reader_->counters().entries_acked; }
  int64_t malformed() const { return malformed_.load(); }
  // Lag of the group (Redis 7+), -1 when unknown.
  int64_t lag() const { return reader_->lag(); }
  ConsumerGroupReader::Counters counters() const { return reader_->counters(); }

  // BatchHandler (the reader's thread): converts the entries and submits
  // them to the worker, which settles the batch once it committed.
  void HandleBatch(StreamBatch batch) override;

 private:
  const Options options_;
  PipelineWorker* const worker_;
  std::unique_ptr<ConsumerGroupReader> reader_;
  std::atomic<int64_t> malformed_{0};
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_LOCAL_STREAM_READER_H_
