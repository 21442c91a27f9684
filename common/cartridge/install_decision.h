// What resolving a cartridge.install_pending notification may say (the
// notification's resolution_shape {"decision": "approve | reject"}): egress
// refuses any other resolution of such a notification before it changes
// anything, and the installer acts on exactly these. Pure functions;
// thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_CARTRIDGE_INSTALL_DECISION_H_
#define TELECLAUDE_MESH_COMMON_CARTRIDGE_INSTALL_DECISION_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/base/strings.h"
#include "common/json/json_text.h"

namespace teleclaude::mesh {

inline constexpr std::string_view kInstallPendingType = "cartridge.install_pending";

enum class InstallDecision {
  kApprove,  // {"decision":"approve"}: activate that version
  kReject,   // {"decision":"reject"}: reject it
  // {"decision":"superseded"|"removed","decided_by":"installer"}: the
  // installer closing the notification of a version it no longer waits on.
  kClosedByInstaller,
};

// The decision of a resolution (a JSON object; other members are kept but
// not read). Errors: INVALID_ARGUMENT naming what is wrong and the two
// resolutions that work.
inline absl::StatusOr<InstallDecision> ParseInstallDecision(std::string_view resolution_json) {
  const std::string_view text = resolution_json.empty() ? std::string_view("{}") : resolution_json;
  std::optional<std::string> decision = json::GetMemberString(text, "decision");
  if (decision == "approve") return InstallDecision::kApprove;
  if (decision == "reject") return InstallDecision::kReject;
  if ((decision == "superseded" || decision == "removed") &&
      json::GetMemberString(text, "decided_by") == "installer") {
    return InstallDecision::kClosedByInstaller;
  }
  return absl::InvalidArgumentError(
      Cat("resolution: ",
          decision.has_value() ? Cat("\"", *decision, "\" is not a decision")
                               : std::string("no \"decision\""),
          " for ", kInstallPendingType,
          "; resolve it with {\"decision\":\"approve\"} or {\"decision\":\"reject\"}"));
}

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_CARTRIDGE_INSTALL_DECISION_H_
