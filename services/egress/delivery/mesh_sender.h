// The send function of the mesh outbox (outbox_sender.h): every pending
// delivery of a batch of mesh rows becomes `XADD messages:{peer} MAXLEN ~
// {stream_maxlen} * type mesh_event payload <body> source_computer <me>
// message_id <prefix><peer>` (doc/wire.md §6-7), under flow control
// (doc/wire.md "Flow control on mesh streams": one XINFO GROUPS round trip
// per batch, never more than stream_maxlen - (lag + pending) messages to a
// peer whose `mesh-ingress` group reports lag). The XADDs go out pipelined,
// pipeline_depth per round trip (a very deep pipeline costs hiredis more in
// buffer copies than it saves in round trips), on `lanes` connections at
// once: a peer's messages always use one lane, in order, so while Redis
// executes one lane's commands the next lane's are being built.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_MESH_SENDER_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_MESH_SENDER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/redis/redis_client.h"
#include "services/egress/storage/events_db.h"

namespace teleclaude::mesh {

// Send() is thread-compatible (the mesh OutboxSender's thread calls it; lanes
// past the first run on threads of their own, joined before it returns);
// Forwarded() is thread-safe.
class MeshSender {
 public:
  struct Options {
    std::string self_name;      // source_computer
    int64_t stream_maxlen = 0;  // MAXLEN ~ of the peers' inboxes (0 = none)
    int pipeline_depth = 256;   // XADDs per round trip
    int lanes = 2;              // Redis connections sending at once
  };

  MeshSender(Options options, const RedisClientOptions& redis);
  ~MeshSender();
  MeshSender(const MeshSender&) = delete;
  MeshSender& operator=(const MeshSender&) = delete;

  // An OutboxSender::SendFn for rows of kind mesh: one status per delivery
  // attempted — OK, or FAILED_PRECONDITION when the peer's key is not a
  // stream (WRONGTYPE: refused for good) — fewer than the deliveries when
  // flow control holds the rest back. Errors (nothing counts as sent; the
  // batch is retried): UNAVAILABLE for Redis I/O failures and for any other
  // error reply (LOADING, OOM, READONLY, ...).
  absl::StatusOr<std::vector<absl::Status>> Send(const std::vector<OutboxRow>& rows);

  // Messages XADDed per peer since construction.
  std::map<std::string, int64_t> Forwarded() const;

 private:
  class Lane;
  // One message of a batch: rows[row].destinations[dest] to peers[peer].
  struct Delivery {
    const OutboxRow* row;
    uint32_t dest;
    uint32_t peer;
  };

  const Options options_;
  std::vector<std::unique_ptr<Lane>> lanes_;  // lanes_[0] runs on the caller's thread
  mutable absl::Mutex mu_;
  std::map<std::string, int64_t> forwarded_ ABSL_GUARDED_BY(mu_);
};

// Makes *argv the argv of `RedisClient::XAddArgv(MeshStreamKey(peer),
// EncodeMeshMessage(envelope_json, source_computer, message_id), maxlen)`
// with message_id = message_id_prefix + message_id_suffix, reusing argv's
// strings (no allocation when they are large enough already). When
// `same_frame`, *argv already holds such an argv for the same maxlen and
// source_computer: only the key, the payload and the message id are written.
void AssignMeshXAddArgv(std::string_view peer, int64_t maxlen, std::string_view envelope_json,
                        std::string_view source_computer, std::string_view message_id_prefix,
                        std::string_view message_id_suffix, bool same_frame,
                        std::vector<std::string>* argv);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_MESH_SENDER_H_
