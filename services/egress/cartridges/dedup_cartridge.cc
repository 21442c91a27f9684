#include "services/egress/cartridges/dedup_cartridge.h"

#include "common/base/status_macros.h"

namespace teleclaude::mesh {

absl::StatusOr<Cartridge::Verdict> DedupCartridge::Process(EventEnvelope& event,
                                                           CartridgeContext& context) {
  const EventSchema* schema = catalog_->Find(event.event);
  if (schema == nullptr) return Verdict::kContinue;
  std::optional<std::string> key = catalog_->BuildIdempotencyKey(event.event, event.payload_json);
  if (!key.has_value()) return Verdict::kContinue;
  event.idempotency_key = *key;
  // Update-only lifecycles: every event must reach the projector.
  if (schema->lifecycle.has_value() && schema->lifecycle->updates && !schema->lifecycle->creates) {
    return Verdict::kContinue;
  }
  TM_ASSIGN_OR_RETURN(bool exists, db_->IdempotencyKeyExists(*key));
  if (exists) return Verdict::kDrop;
  context.absent_idempotency_key = *key;
  return Verdict::kContinue;
}

}  // namespace teleclaude::mesh
