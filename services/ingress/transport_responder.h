// Answers TeleClaude transport requests addressed to this computer as a
// Python TeleClaude computer does (DESIGN §3.3, doc/transport.md): a Python
// computer's discover_peers() XADDs `command get_computer_info` to
// `messages:{me}` and waits 3 s for the answer on `output:{me}:{entry id}`.
// Decoding is transport_request.h; this class gathers this computer's info
// and writes the answer:
//   XADD output:{me}:{entry id} MAXLEN ~ {stream_maxlen} *
//        chunk <json.dumps answer> timestamp <time.time()> message_id <entry id>
//   EXPIRE output:{me}:{entry id} {response_ttl}
// (Python configures output_stream_ttl = 3600 s but its send_response never
// applies it, so its answer streams stay forever; ours expire after that hour,
// long after the requester's 3 s wait.)
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_TRANSPORT_RESPONDER_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_TRANSPORT_RESPONDER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/redis/redis_client.h"
#include "services/ingress/transport_request.h"

namespace teleclaude::mesh {

// Thread-safe (one mutex; calls are serialised). Owns its Redis connection.
class TransportResponder {
 public:
  struct Options {
    RedisClientOptions redis;
    std::string computer_name;
    std::string role = "general";                  // Python's default computer role
    int64_t stream_maxlen = 10000;                 // MAXLEN ~ of the answer stream
    absl::Duration response_ttl = absl::Hours(1);  // Python's REDIS_OUTPUT_STREAM_TTL
    std::string disk_path = "/";  // whose disk is reported (psutil.disk_usage("/"))
  };

  struct Counters {
    int64_t computer_info = 0;   // get_computer_info answered
    int64_t errors = 0;          // error envelopes answered (unknown command, bad field)
    int64_t no_answer = 0;       // entries that ask for none (system, no command)
    int64_t write_failures = 0;  // answers Redis did not take (entry left pending)
  };

  explicit TransportResponder(Options options);
  TransportResponder(const TransportResponder&) = delete;
  TransportResponder& operator=(const TransportResponder&) = delete;

  // For an entry of `messages:{me}` whose type is not mesh_event: writes the
  // answer Python would write and returns OK once Redis has it — the caller
  // acknowledges the entry only then; OK without writing when the entry asks
  // for no answer. An error when Redis did not take the answer (the caller
  // leaves the entry pending).
  absl::Status Answer(const StreamEntry& entry);

  // This computer's info now: user (effective uid's login name), host
  // (gethostname), role, memory (/proc/meminfo), disk (statvfs of disk_path)
  // and CPU use since the previous call (the first call: since construction),
  // computed and rounded as psutil does.
  ComputerInfo CurrentInfo();

  Counters counters() const;

 private:
  struct CpuSample {
    uint64_t busy = 0;
    uint64_t total = 0;
  };
  static CpuSample ReadCpu();

  const Options options_;
  const std::string user_;
  const std::string host_;
  mutable absl::Mutex mu_;
  std::unique_ptr<RedisClient> redis_ ABSL_GUARDED_BY(mu_);
  CpuSample last_cpu_ ABSL_GUARDED_BY(mu_);
  Counters counters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_TRANSPORT_RESPONDER_H_
