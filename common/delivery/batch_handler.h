// The owner of a ConsumerGroupReader (consumer_group_reader.h): what it does
// with the entries the reader hands it. The seam between "read a stream in
// a group" (the reader, the same for every stream) and "act on an entry"
// (egress's pipeline, ingress's trust gate and Submit).
#ifndef TELECLAUDE_MESH_COMMON_DELIVERY_BATCH_HANDLER_H_
#define TELECLAUDE_MESH_COMMON_DELIVERY_BATCH_HANDLER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/redis/redis_client.h"

namespace teleclaude::mesh {

// Entries handed over together. Value type.
struct StreamBatch {
  enum class Origin {
    kPending,  // this consumer's own pending entries (after a restart, a failed
               // batch or a lost connection)
    kClaimed,  // idle entries claimed from any consumer (XAUTOCLAIM)
    kNew,      // never delivered before (XREADGROUP >)
  };
  uint64_t id = 0;  // for ConsumerGroupReader::Settle
  Origin origin = Origin::kNew;
  // In stream order; every entry has its fields (entries deleted or trimmed
  // while pending are acknowledged by the reader itself, never handed over).
  std::vector<StreamEntry> entries;
};

// Implemented by the reader's owner.
class BatchHandler {
 public:
  virtual ~BatchHandler() = default;

  // Takes `batch` (on the reader's thread, in read order). The handler must
  // settle every batch it was handed exactly once, from any thread, with
  // ConsumerGroupReader::Settle — naming the entries whose effects are
  // committed (they are acknowledged) — including when it gives a batch
  // back (nothing committed) because it is stopping. It may block while its
  // own queue is full, but must return once it is being stopped.
  virtual void HandleBatch(StreamBatch batch) = 0;

  // Polled (every 50 ms, on the reader's thread) before anything is read:
  // false keeps the reader waiting (e.g. ingress's trust gate does not know
  // the live peers yet). The group is created before the first poll.
  virtual bool ReadyToRead() { return true; }
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_DELIVERY_BATCH_HANDLER_H_
