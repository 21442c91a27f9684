// Several guardians in order; a cartridge is approved only when every one
// approves. The first denial or the first failure ends the evaluation (so the
// built-in policy, placed first, keeps obviously unsafe code away from an
// external reviewer).
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_GUARDIAN_CHAIN_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_GUARDIAN_CHAIN_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/installer/guardian.h"

namespace teleclaude::mesh {

// Thread-safe when every member is.
class GuardianChain : public Guardian {
 public:
  // REQUIRES: `guardians` non-empty, no null entries.
  explicit GuardianChain(std::vector<std::unique_ptr<Guardian>> guardians)
      : guardians_(std::move(guardians)) {}

  std::string Name() const override {
    std::vector<std::string> names;
    for (const auto& g : guardians_) names.push_back(g->Name());
    return absl::StrJoin(names, "+");
  }

  // The first denial or error; otherwise the last approval, its reason
  // listing every approver.
  absl::StatusOr<GuardianVerdict> Evaluate(const CartridgeCandidate& cartridge) override {
    GuardianVerdict last;
    std::vector<std::string> approvers;
    for (const auto& g : guardians_) {
      absl::StatusOr<GuardianVerdict> verdict = g->Evaluate(cartridge);
      if (!verdict.ok() || !verdict->approved) return verdict;
      approvers.push_back(verdict->decided_by);
      last = *std::move(verdict);
    }
    last.decided_by = absl::StrJoin(approvers, ",");
    return last;
  }

 private:
  const std::vector<std::unique_ptr<Guardian>> guardians_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_GUARDIAN_CHAIN_H_
