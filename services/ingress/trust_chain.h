// The trust gate as ingress runs it: evaluators in order (membership, then
// the trust-cartridge rules), and the factory that builds it from the
// configuration (doc/ingress.md "Trust gate").
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_TRUST_CHAIN_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_TRUST_CHAIN_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "services/ingress/membership_trust.h"
#include "services/ingress/trust_evaluator.h"

namespace teleclaude::mesh {

// Runs its evaluators in order: REJECT and QUARANTINE end the chain with that
// decision; FLAG adds its flags and goes on; the result is FLAG (with every
// flag, in order) when any stage flagged, otherwise ACCEPT.
// Thread-safe when its evaluators are (they are owned).
class TrustChain : public TrustEvaluator {
 public:
  explicit TrustChain(std::vector<std::unique_ptr<TrustEvaluator>> stages);

  TrustDecision Evaluate(const EventEnvelope& envelope,
                         std::string_view source_computer) const override;

 private:
  const std::vector<std::unique_ptr<TrustEvaluator>> stages_;
};

struct TrustGateOptions {
  TrustMode mode = TrustMode::kCluster;
  TrustStrictness strictness = TrustStrictness::kStandard;
  std::optional<std::string> self_cluster;
  std::vector<std::string> trusted_peers;
};

// Membership (`mode`) then StrictnessTrust (`strictness`), where a known
// source is an envelope `source` that is itself a member under `mode`.
// `membership` is refreshed before a sender is refused when
// `refresh_on_miss` (MembershipTrust). REQUIRES: `membership` outlives the
// result.
std::unique_ptr<TrustEvaluator> BuildTrustGate(const TrustGateOptions& options,
                                               MembershipView* membership,
                                               bool refresh_on_miss = true);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_TRUST_CHAIN_H_
