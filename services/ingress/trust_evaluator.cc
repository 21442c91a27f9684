#include "services/ingress/trust_evaluator.h"

namespace teleclaude::mesh {

std::string_view TrustOutcomeName(TrustOutcome outcome) {
  switch (outcome) {
    case TrustOutcome::kAccept:
      return "ACCEPT";
    case TrustOutcome::kFlag:
      return "FLAG";
    case TrustOutcome::kQuarantine:
      return "QUARANTINE";
    case TrustOutcome::kReject:
      return "REJECT";
  }
  return "?";
}

}  // namespace teleclaude::mesh
