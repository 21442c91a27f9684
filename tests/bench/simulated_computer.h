// One simulated computer for the scaling bench (mesh_bench computers): the
// Redis traffic of a computer's services, without the services. Each Step()
// issues, on one connection, the commands a real computer issues for the
// same events (doc/wire.md §6-§7, doc/ingress.md, doc/membership.md):
//
//   producer  XADD teleclaude:events:{me} * <stream entry>          per event
//   egress    XREADGROUP GROUP egress {me} COUNT 512 STREAMS
//               teleclaude:events:{me} >                             per round
//             XINFO GROUPS messages:{peer}   per destination peer, per round
//             XADD messages:{peer} MAXLEN ~ 10000 * type mesh_event
//               payload <JSON> source_computer {me} message_id <id>  per event x peer
//             XACK teleclaude:events:{me} egress <ids>               per round
//   ingress   XREADGROUP GROUP mesh-ingress {me} COUNT 256 STREAMS
//               messages:{me} >                                       per batch
//             XACK messages:{me} mesh-ingress <ids>                   per batch
//   membership SCAN 0 MATCH computer:*:heartbeat COUNT 1000 (to the end)
//             + MGET of the keys found                                every 1 s
//   heartbeat SETEX computer:{me}:heartbeat 60 <json>                 every 30 s
//
// What it leaves out: the services' SQLite work and gRPC (not Redis load),
// BLOCK on the reads (a loop that polls instead; BLOCK changes no Redis work
// when data is waiting), and XINFO / XAUTOCLAIM calls made on timers of 30 s.
#ifndef TELECLAUDE_MESH_TESTS_BENCH_SIMULATED_COMPUTER_H_
#define TELECLAUDE_MESH_TESTS_BENCH_SIMULATED_COMPUTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/redis/redis_client.h"

namespace teleclaude::mesh::bench {

// Not thread-safe: one thread drives a computer.
class SimulatedComputer {
 public:
  struct Options {
    std::string name;
    // Where each of its events goes: public events go to every peer
    // (O(peers) XADDs), a directed one to one peer.
    std::vector<std::string> destinations;
    int64_t events = 0;       // events its producer writes in all
    int produce_batch = 128;  // events per producer round trip
    int64_t stream_maxlen = 10000;
  };
  // What one Step did.
  struct Round {
    int64_t produced = 0;
    int64_t forwarded = 0;  // XADDs to peers' inboxes
    int64_t received = 0;   // entries its ingress read and acknowledged
  };

  SimulatedComputer(Options options, std::unique_ptr<RedisClient> redis);

  // Creates both consumer groups and writes the heartbeat.
  absl::Status Setup();
  // One producer batch (while events remain), one egress round, the inbox
  // drained, and the membership/heartbeat timers when due.
  absl::StatusOr<Round> Step();
  bool produced_all() const { return produced_ >= options_.events; }
  const std::string& name() const { return options_.name; }

 private:
  absl::Status Produce(Round* round);
  absl::Status Egress(Round* round);
  absl::Status Ingress(Round* round);
  absl::Status Timers();

  const Options options_;
  std::unique_ptr<RedisClient> redis_;
  const std::string local_stream_;
  const std::string inbox_;
  std::vector<std::string> stream_entry_;  // the producer's fields (an event)
  std::string json_;                       // the envelope JSON egress sends
  int64_t produced_ = 0;
  absl::Time next_refresh_;
  absl::Time next_heartbeat_;
};

}  // namespace teleclaude::mesh::bench

#endif  // TELECLAUDE_MESH_TESTS_BENCH_SIMULATED_COMPUTER_H_
