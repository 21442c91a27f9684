// ReadinessProbe of a database writer's own view (common/sqlite/
// write_health.h): failing with the reason while its commits fail because
// the disk is full, so health turns NOT_SERVING and `telec status` prints
// why; passing again after the next commit.
#ifndef TELECLAUDE_MESH_COMMON_GRPC_WRITE_HEALTH_PROBE_H_
#define TELECLAUDE_MESH_COMMON_GRPC_WRITE_HEALTH_PROBE_H_

#include <string>
#include <utility>

#include "common/grpc/readiness_probe.h"
#include "common/sqlite/write_health.h"

namespace teleclaude::mesh {

// Thread-compatible (the monitor's thread); `health` is not owned and must
// outlive the probe.
class WriteHealthProbe final : public ReadinessProbe {
 public:
  // `name` e.g. "events.db writes", `target` the database path.
  WriteHealthProbe(std::string name, std::string target, const WriteHealth* health)
      : name_(std::move(name)), target_(std::move(target)), health_(health) {}

  const std::string& name() const override { return name_; }
  const std::string& target() const override { return target_; }
  // OK, or RESOURCE_EXHAUSTED "<db>: disk full since ...".
  absl::Status Check() override { return health_->Check(); }

 private:
  const std::string name_;
  const std::string target_;
  const WriteHealth* const health_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_WRITE_HEALTH_PROBE_H_
