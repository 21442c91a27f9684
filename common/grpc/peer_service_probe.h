// ReadinessProbe of another service of this computer that this one needs
// (ingress and the installer need egress; egress needs the installer): does
// it answer grpc.health.v1.Health/Check? Any answer counts, NOT_SERVING
// included: the peer is running, and its own probes say why it does not
// serve (counting its NOT_SERVING here would make two services that need
// each other wait for each other forever after an outage).
#ifndef TELECLAUDE_MESH_COMMON_GRPC_PEER_SERVICE_PROBE_H_
#define TELECLAUDE_MESH_COMMON_GRPC_PEER_SERVICE_PROBE_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/grpc/readiness_probe.h"

namespace teleclaude::mesh {

// Thread-compatible (the monitor calls it from one thread).
class PeerServiceProbe final : public ReadinessProbe {
 public:
  // `name`: the peer ("installer"); `addr`: where it listens.
  PeerServiceProbe(std::string name, std::string addr, absl::Duration timeout = absl::Seconds(1));

  const std::string& name() const override { return name_; }
  const std::string& target() const override { return addr_; }
  // UNAVAILABLE "<name> at <addr> does not answer: ..." when no answer came
  // within the timeout.
  absl::Status Check() override;

 private:
  const std::string name_;
  const std::string addr_;
  const absl::Duration timeout_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_PEER_SERVICE_PROBE_H_
