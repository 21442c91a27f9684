// The trust gate's interface (DESIGN §1, doc/ingress.md "Trust gate"). Every
// mesh event passes a TrustEvaluator before it may enter the local pipeline;
// the consumer depends on this header only.
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_TRUST_EVALUATOR_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_TRUST_EVALUATOR_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/envelope/envelope.h"

namespace teleclaude::mesh {

// TeleClaude's trust-cartridge outcomes (teleclaude/events/cartridges/trust.py).
enum class TrustOutcome {
  kAccept,      // enters the pipeline unchanged
  kFlag,        // enters the pipeline with payload._trust_flags = flags
  kQuarantine,  // stored in quarantined_events, not processed
  kReject,      // becomes a local mesh.event.rejected
};

// "ACCEPT" / "FLAG" / "QUARANTINE" / "REJECT".
std::string_view TrustOutcomeName(TrustOutcome outcome);

// What an evaluator decided about one event. Value type.
struct TrustDecision {
  TrustOutcome outcome = TrustOutcome::kAccept;
  // Trust flags (e.g. "unknown_source"); set for kFlag and kQuarantine, and
  // for kReject when a cartridge rule rejected.
  std::vector<std::string> flags;
  // For kReject: the mesh.event.rejected reason ("untrusted") and a sentence
  // saying why, naming the source and the setting that decided.
  std::string reason;
  std::string detail;

  static TrustDecision Accept() { return {}; }
};

// Decides whether an event that arrived from `source_computer` may enter the
// pipeline. Implementations are thread-safe (Evaluate is const and may run
// on any thread) and never touch Redis per event.
class TrustEvaluator {
 public:
  virtual ~TrustEvaluator() = default;
  // `envelope` is the decoded event (payload already stamped with
  // _mesh_source); `source_computer` is the validated sender name, never
  // this computer's own.
  virtual TrustDecision Evaluate(const EventEnvelope& envelope,
                                 std::string_view source_computer) const = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_TRUST_EVALUATOR_H_
