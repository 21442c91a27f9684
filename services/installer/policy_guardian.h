// The built-in deterministic L2 guardian: size limit, runtime allowed,
// optional author allowlist, and a static scan of the source for ways out of
// the cartridge sandbox and for what the sandbox cannot hold to a call's
// limits. The scan tokenizes Lua (skipping comments and string literals) and
// denies any use of these globals as a name (not as a field after "." or
// ":"): os, io, debug, package, require, load, loadstring, dofile, loadfile,
// collectgarbage, _G, _ENV, getmetatable, coroutine (a coroutine would run
// outside the call's hook, so the sandbox has none); any ".dump"/":dump"
// member (string.dump); and `__gc` as a name or member (Lua runs finalizers
// with hooks off, out of reach of the limits; the sandbox refuses them at run
// time too).
//
// Everything else a cartridge can call or do is bounded at run time: a call
// ends within its wall-time budget plus a stated bound, counts as a failure
// and repeated failures suspend it (services/egress/lua/lua_sandbox.h). So
// the scan does not try to recognise expensive code (the issue 18 sort bomb
// passes it, and the sandbox suspends it). The scan is conservative on
// purpose: a cartridge it denies waits for a human, who can still activate
// it.
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_POLICY_GUARDIAN_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_POLICY_GUARDIAN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/installer/guardian.h"

namespace teleclaude::mesh {

struct PolicyGuardianOptions {
  int64_t max_cartridge_bytes = 262144;
  // nullopt = any author; otherwise only these (exact match).
  std::optional<std::vector<std::string>> allowed_authors;
};

// Thread-safe (immutable after construction).
class PolicyGuardian : public Guardian {
 public:
  explicit PolicyGuardian(PolicyGuardianOptions options) : options_(std::move(options)) {}

  std::string Name() const override { return "policy"; }

  // Never fails: always a verdict, decided_by "guardian:policy". A denial's
  // reason names the rule and, for the scan, the line:
  //   "line 3: uses `os` (operating-system access escapes the sandbox)".
  absl::StatusOr<GuardianVerdict> Evaluate(const CartridgeCandidate& cartridge) override;

  // The static scan alone: nullopt when clean, else the reason.
  static std::optional<std::string> ScanLuaSource(std::string_view source);

 private:
  const PolicyGuardianOptions options_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_POLICY_GUARDIAN_H_
