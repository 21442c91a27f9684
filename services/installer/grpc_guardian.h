// An external L2 guardian reached over gRPC (teleclaude.mesh.v1.Guardian,
// --guardian_addr), so that an AI reviewer can be plugged in. Unreachable,
// timed out or failing → a non-OK status, which the installer turns into a
// pending cartridge for a human (never an approval).
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_GRPC_GUARDIAN_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_GRPC_GUARDIAN_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "services/installer/guardian.h"
#include "teleclaude/mesh/v1/installer.grpc.pb.h"

namespace teleclaude::mesh {

// Thread-safe (a gRPC stub is).
class GrpcGuardian : public Guardian {
 public:
  // Connects lazily to `addr` ("host:port"). Each Evaluate waits at most
  // `timeout`.
  GrpcGuardian(std::string addr, absl::Duration timeout);

  std::string Name() const override { return "grpc:" + addr_; }

  // UNAVAILABLE / DEADLINE_EXCEEDED / ... "guardian <addr>: <why>" when the
  // call fails; a verdict with decided_by "guardian:<addr>" otherwise (a
  // denial without a reason gets "denied by the external guardian").
  absl::StatusOr<GuardianVerdict> Evaluate(const CartridgeCandidate& cartridge) override;

 private:
  const std::string addr_;
  const absl::Duration timeout_;
  const std::unique_ptr<v1::Guardian::Stub> stub_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_GRPC_GUARDIAN_H_
