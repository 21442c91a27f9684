// The transport of the mesh outbox (common/delivery/outbox_transport.h,
// driven by the delivery core's OutboxSender): every delivery becomes `XADD
// messages:{peer} MAXLEN ~ {stream_maxlen} * type mesh_event payload <body>
// source_computer <me> message_id <prefix><peer>` (doc/wire.md §6-7), under
// flow control (doc/wire.md "Flow control on mesh streams": Room() costs one
// XINFO GROUPS round trip per round, and allows no more than stream_maxlen -
// (lag + pending) messages to a peer whose `mesh-ingress` group reports lag;
// the sender holds back only that peer). The XADDs go out pipelined,
// pipeline_depth per round trip (a very deep pipeline costs hiredis more in
// buffer copies than it saves in round trips), on `lanes` connections at
// once: a peer's messages always use one lane, in order, so while Redis
// executes one lane's commands the next lane's are being built.
//
// Authentication (doc/security.md §4.4, §10.4): a peer whose key is pinned
// in the membership snapshot gets `sent_at` (this computer's clock at XADD
// time) and `auth` (the MAC with the pair key K(me -> peer)) after the
// message id; a peer without a pinned key (a Python peer) gets today's
// unsigned message. The MACs are computed on the lanes' threads.
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
#include "common/delivery/outbox_transport.h"
#include "common/identity/pair_key_cache.h"
#include "common/mesh/membership_view.h"
#include "common/redis/redis_client.h"

namespace teleclaude::mesh {

// Room() and Send() are thread-compatible (the mesh OutboxSender's thread
// calls them; lanes past the first run on threads of their own, joined before
// Send returns); Forwarded() is thread-safe.
class MeshSender : public OutboxTransport {
 public:
  struct Options {
    std::string self_name;      // source_computer
    int64_t stream_maxlen = 0;  // MAXLEN ~ of the peers' inboxes (0 = none)
    int pipeline_depth = 256;   // XADDs per round trip
    int lanes = 2;              // Redis connections sending at once
    // Both set: messages to pinned peers are authenticated. Not owned; must
    // outlive the sender. Either null: nothing is authenticated (tests of
    // the wire form, and --nomesh_authentication).
    const MembershipView* membership = nullptr;
    PairKeyCache* pair_keys = nullptr;
  };

  MeshSender(Options options, const RedisClientOptions& redis);
  ~MeshSender() override;
  MeshSender(const MeshSender&) = delete;
  MeshSender& operator=(const MeshSender&) = delete;

  // Flow control: per peer, stream_maxlen - (lag + pending) of its
  // `mesh-ingress` group, unlimited without that group (or without the
  // stream). UNAVAILABLE when Redis cannot be asked.
  absl::StatusOr<std::vector<int64_t>> Room(
      const std::vector<std::string_view>& destinations) override;
  // One status per delivery — OK, or FAILED_PRECONDITION when the peer's key
  // is not a stream (WRONGTYPE: refused for good). `error` (no statuses:
  // nothing counts as sent; the deliveries are offered again, with the same
  // ids): UNAVAILABLE for Redis I/O failures and for any other error reply
  // (LOADING, OOM, READONLY, ...).
  OutboxSendResult Send(const std::vector<OutboxDelivery>& deliveries) override;

  // Messages XADDed per peer since construction.
  std::map<std::string, int64_t> Forwarded() const;

 private:
  class Lane;
  // One message of a batch and the index of its peer in the batch.
  struct Delivery {
    const OutboxDelivery* message;
    uint32_t peer;
    const MacKey* send_key;  // null: unsigned (no pinned key)
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

// After AssignMeshXAddArgv: with `send_key`, makes argv end in `sent_at
// <sent_at_ms> auth <MAC>` (doc/security.md §4.4) over the payload and
// message id already in argv; without, removes those four slots. Reuses
// argv's strings.
void AssignMeshAuthArgv(const MacKey* send_key, std::string_view source_computer, int64_t maxlen,
                        int64_t sent_at_ms, std::vector<std::string>* argv);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_DELIVERY_MESH_SENDER_H_
