#include "services/ingress/strictness_trust.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "common/base/strings.h"
#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

bool LevelIsKnown(Level level) {
  int value = static_cast<int>(level);
  return value >= 0 && value <= 3;
}

TrustDecision Decide(TrustOutcome outcome, std::string flag) {
  TrustDecision decision;
  decision.outcome = outcome;
  decision.flags.push_back(std::move(flag));
  return decision;
}

}  // namespace

StrictnessTrust::StrictnessTrust(TrustStrictness strictness, KnownSource known_source)
    : strictness_(strictness), known_source_(std::move(known_source)) {
  CHECK(known_source_ != nullptr);
}

TrustDecision StrictnessTrust::Evaluate(const EventEnvelope& envelope,
                                        std::string_view /*source_computer*/) const {
  if (strictness_ == TrustStrictness::kPermissive) return TrustDecision::Accept();
  const bool known = known_source_(envelope.source);
  if (strictness_ == TrustStrictness::kStandard) {
    if (!known) return Decide(TrustOutcome::kFlag, "unknown_source");
    if (!LevelIsKnown(envelope.level)) return Decide(TrustOutcome::kQuarantine, "malformed_level");
    return TrustDecision::Accept();
  }
  // strict
  if (!known) return Decide(TrustOutcome::kQuarantine, "unknown_source");
  if (envelope.domain.empty() && !envelope.event.empty() &&
      !absl::StartsWith(envelope.event, "system.")) {
    return Decide(TrustOutcome::kFlag, "missing_domain");
  }
  if (!LevelIsKnown(envelope.level)) {
    TrustDecision decision = Decide(TrustOutcome::kReject, "unknown_level");
    decision.reason = "untrusted";
    decision.detail =
        Cat("level ", static_cast<int>(envelope.level), " is not 0-3 (trust_strictness=strict)");
    return decision;
  }
  return TrustDecision::Accept();
}

}  // namespace teleclaude::mesh
