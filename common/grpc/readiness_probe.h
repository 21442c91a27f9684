// The seam between a service and what it needs to do its work: each
// dependency (Redis, a database it writes, a peer service) is a
// ReadinessProbe the service registers with its HealthMonitor, which turns
// the probes' answers into the grpc.health.v1 status (health_monitor.h).
// Probes own their own connections: they never reach into the components
// they stand for.
#ifndef TELECLAUDE_MESH_COMMON_GRPC_READINESS_PROBE_H_
#define TELECLAUDE_MESH_COMMON_GRPC_READINESS_PROBE_H_

#include <string>

#include "absl/status/status.h"

namespace teleclaude::mesh {

// One dependency's check. Implementations are called from one thread (the
// monitor's) and need not be thread-safe; name() and target() are fixed at
// construction.
class ReadinessProbe {
 public:
  virtual ~ReadinessProbe() = default;

  // Short name for health reports and logs: "redis", "events.db",
  // "installer".
  virtual const std::string& name() const = 0;
  // What is probed: an address, a URL without password, a path.
  virtual const std::string& target() const = 0;

  // Checks the dependency once: OK when it works, else why not, in one line
  // ("PING: Connection refused (redis redis://127.0.0.1:6379/0)"). Must
  // return within a few seconds whatever happens (its own timeouts).
  virtual absl::Status Check() = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_READINESS_PROBE_H_
