// TeleClaude's trust-cartridge rules (teleclaude/events/cartridges/trust.py)
// by --trust_strictness: the second stage of the trust gate, applied to
// events whose sender already passed membership (doc/ingress.md).
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_STRICTNESS_TRUST_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_STRICTNESS_TRUST_H_

#include <functional>
#include <string_view>

#include "common/config/config.h"
#include "services/ingress/trust_evaluator.h"

namespace teleclaude::mesh {

// The rules, as trust.py's _evaluate (a "known source" is an envelope
// `source` for which `known_source` returns true):
//   permissive: ACCEPT.
//   standard:   unknown source -> FLAG [unknown_source];
//               level outside 0..3 -> QUARANTINE [malformed_level];
//               otherwise ACCEPT.
//   strict:     unknown source -> QUARANTINE [unknown_source];
//               empty domain on a type not starting with "system." ->
//               FLAG [missing_domain];
//               level outside 0..3 -> REJECT [unknown_level] (reason
//               "untrusted"); otherwise ACCEPT.
// Thread-safe when `known_source` is.
class StrictnessTrust : public TrustEvaluator {
 public:
  using KnownSource = std::function<bool(std::string_view source)>;

  // REQUIRES: known_source != nullptr.
  StrictnessTrust(TrustStrictness strictness, KnownSource known_source);

  TrustDecision Evaluate(const EventEnvelope& envelope,
                         std::string_view source_computer) const override;

 private:
  const TrustStrictness strictness_;
  const KnownSource known_source_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_STRICTNESS_TRUST_H_
