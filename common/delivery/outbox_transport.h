// How an OutboxSender (outbox_sender.h) moves messages to their
// destinations: XADD to a peer's inbox, a gRPC call to the installer or to
// egress. The seam between "keep a durable outbox per destination" (the
// same for every hop) and "talk to this kind of destination".
#ifndef TELECLAUDE_MESH_COMMON_DELIVERY_OUTBOX_TRANSPORT_H_
#define TELECLAUDE_MESH_COMMON_DELIVERY_OUTBOX_TRANSPORT_H_

#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace teleclaude::mesh {

// One message to one destination. The views stay valid for the Send call.
struct OutboxDelivery {
  std::string_view destination;
  // The stable message id is message_id followed by message_id_suffix (the
  // destination for outboxes whose ids are per destination, else empty).
  std::string_view message_id;
  std::string_view message_id_suffix;
  std::string_view body;
  int64_t seq = 0;  // the row's position in the outbox (ids only grow)
};

// What a Send achieved. Value type.
struct OutboxSendResult {
  // One status per delivery of a prefix of the batch, in order: OK =
  // delivered; an error = refused for good (counted and dropped, never
  // retried: e.g. the peer's key is not a stream).
  std::vector<absl::Status> statuses;
  // Not OK: the deliveries after that prefix failed for now (Redis or the
  // service is unreachable) and are offered again after a backoff. OK with a
  // short prefix: the transport held the rest back (flow control) — offered
  // again after a short pause.
  absl::Status error;
};

// Whether `status`, the answer of a service to a message, means that sending
// the same message again cannot help (the transport refuses it for good:
// counted, logged, never retried) rather than "not now" (UNAVAILABLE,
// DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, ...: retried with backoff).
inline bool IsPermanentError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kPermissionDenied:
      return true;
    default:
      return false;
  }
}

// Called on the sender's thread only.
class OutboxTransport {
 public:
  virtual ~OutboxTransport() = default;

  // Flow control, asked once per round for the destinations about to be
  // sent to: how many more messages each takes now (<= 0: none). An error
  // fails the round like a Send error. The default: no limit.
  virtual absl::StatusOr<std::vector<int64_t>> Room(
      const std::vector<std::string_view>& destinations) {
    return std::vector<int64_t>(destinations.size(), std::numeric_limits<int64_t>::max());
  }

  // Sends `deliveries`; a destination's messages come in the order they must
  // arrive (the transport keeps that order per destination).
  virtual OutboxSendResult Send(const std::vector<OutboxDelivery>& deliveries) = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_DELIVERY_OUTBOX_TRANSPORT_H_
