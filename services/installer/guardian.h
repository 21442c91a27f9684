// The L2 guardian interface (DESIGN §1): something that looks at a received
// cartridge and approves or denies installing it without a human. The
// installer depends on this interface only; implementations are
// PolicyGuardian (built in, deterministic), GrpcGuardian (an external
// evaluator, e.g. an AI reviewer, over teleclaude.mesh.v1.Guardian) and
// GuardianChain (all of several must approve).
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_GUARDIAN_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_GUARDIAN_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "services/installer/cartridge_payload.h"

namespace teleclaude::mesh {

// A decision. Value type.
struct GuardianVerdict {
  bool approved = false;
  // Why (always set on a denial; a short note on approval).
  std::string reason;
  // Who decided, e.g. "guardian:policy" — recorded as the registry's
  // decided_by and in the audit log.
  std::string decided_by;
};

// Implementations are thread-safe: the installer may call Evaluate from
// several gRPC handler threads at once.
class Guardian {
 public:
  virtual ~Guardian() = default;

  // "policy", "grpc:127.0.0.1:50060", ...
  virtual std::string Name() const = 0;

  // A verdict, or a non-OK status when the guardian could not decide
  // (unreachable, timed out, answered nonsense). The installer turns a
  // non-OK status into "pending for a human" — never into an approval.
  virtual absl::StatusOr<GuardianVerdict> Evaluate(const CartridgeCandidate& cartridge) = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_GUARDIAN_H_
