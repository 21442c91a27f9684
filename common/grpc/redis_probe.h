// ReadinessProbe of the mesh bus: PING on a connection of its own (never a
// component's), with short timeouts so a dead Redis is noticed in about a
// second. The round trip is what `telec status` shows on its Redis line.
#ifndef TELECLAUDE_MESH_COMMON_GRPC_REDIS_PROBE_H_
#define TELECLAUDE_MESH_COMMON_GRPC_REDIS_PROBE_H_

#include <string>

#include "common/grpc/readiness_probe.h"
#include "common/redis/redis_client.h"

namespace teleclaude::mesh {

// Thread-compatible (the monitor calls it from one thread).
class RedisProbe final : public ReadinessProbe {
 public:
  // `options` as the service's own clients use them (endpoint, TLS, client
  // name); the probe shortens the timeouts to `timeout` and names its
  // connection "<client_name>:probe".
  explicit RedisProbe(RedisClientOptions options, absl::Duration timeout = absl::Seconds(1));

  const std::string& name() const override { return name_; }
  const std::string& target() const override { return target_; }
  // PING; UNAVAILABLE with the client's message when it does not answer.
  absl::Status Check() override;

 private:
  const std::string name_ = "redis";
  const std::string target_;
  RedisClient client_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_REDIS_PROBE_H_
