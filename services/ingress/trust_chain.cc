#include "services/ingress/trust_chain.h"

#include <utility>

#include "services/ingress/strictness_trust.h"

namespace teleclaude::mesh {

TrustChain::TrustChain(std::vector<std::unique_ptr<TrustEvaluator>> stages)
    : stages_(std::move(stages)) {}

TrustDecision TrustChain::Evaluate(const EventEnvelope& envelope,
                                   std::string_view source_computer) const {
  TrustDecision result = TrustDecision::Accept();
  for (const auto& stage : stages_) {
    TrustDecision decision = stage->Evaluate(envelope, source_computer);
    switch (decision.outcome) {
      case TrustOutcome::kAccept:
        break;
      case TrustOutcome::kFlag:
        result.outcome = TrustOutcome::kFlag;
        for (std::string& flag : decision.flags) result.flags.push_back(std::move(flag));
        break;
      case TrustOutcome::kQuarantine:
      case TrustOutcome::kReject: {
        // The flags gathered so far are kept in front of the deciding ones.
        for (std::string& flag : decision.flags) result.flags.push_back(std::move(flag));
        decision.flags = std::move(result.flags);
        return decision;
      }
    }
  }
  return result;
}

std::unique_ptr<TrustEvaluator> BuildTrustGate(const TrustGateOptions& options,
                                               MembershipView* view, bool refresh_on_miss) {
  MembershipTrust::Options membership_options;
  membership_options.mode = options.mode;
  membership_options.self_cluster = options.self_cluster;
  membership_options.trusted_peers = options.trusted_peers;
  membership_options.refresh_on_miss = refresh_on_miss;
  auto membership = std::make_shared<MembershipTrust>(membership_options, view);
  // The strictness stage asks the same membership about the envelope's
  // `source`; it shares ownership of it.
  auto known = [membership](std::string_view source) { return membership->IsMember(source); };

  // A thin owner so the chain can hold the shared membership stage.
  class SharedStage : public TrustEvaluator {
   public:
    explicit SharedStage(std::shared_ptr<const TrustEvaluator> stage) : stage_(std::move(stage)) {}
    TrustDecision Evaluate(const EventEnvelope& envelope,
                           std::string_view source_computer) const override {
      return stage_->Evaluate(envelope, source_computer);
    }

   private:
    std::shared_ptr<const TrustEvaluator> stage_;
  };

  std::vector<std::unique_ptr<TrustEvaluator>> stages;
  stages.push_back(std::make_unique<SharedStage>(membership));
  stages.push_back(std::make_unique<StrictnessTrust>(options.strictness, std::move(known)));
  return std::make_unique<TrustChain>(std::move(stages));
}

}  // namespace teleclaude::mesh
