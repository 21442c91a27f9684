#include "services/egress/cartridges/mesh_publisher.h"

#include <vector>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/envelope/json_codec.h"
#include "common/json/json_text.h"

namespace teleclaude::mesh {

std::string MeshPublisher::MessageIdPrefix(std::string_view self, std::string_view input_key) {
  return Cat(self, "/", input_key, "/");
}

absl::StatusOr<Cartridge::Verdict> MeshPublisher::Process(EventEnvelope& event,
                                                          CartridgeContext& context) {
  if (event.visibility == Visibility::kLocal) return Verdict::kContinue;
  if (event.event == "cartridge.invoked") return Verdict::kContinue;
  if (context.origin == EventOrigin::kMesh) return Verdict::kContinue;
  if (json::GetMember(event.payload_json, "_mesh_source").has_value()) return Verdict::kContinue;

  // Peer selection: membership decides (doc/membership.md "Destinations").
  std::shared_ptr<const MembershipSnapshot> snapshot = membership_->Snapshot();
  std::vector<std::string_view> targets = snapshot->Destinations(event.visibility);
  if (targets.empty()) return Verdict::kContinue;
  TM_RETURN_IF_ERROR(outbox_
                         ->Append(targets, MessageIdPrefix(options_.self_name, context.input_key),
                                  EncodeEnvelopeJson(event))
                         .status());
  deliveries_added_ += static_cast<int64_t>(targets.size());
  return Verdict::kContinue;
}

}  // namespace teleclaude::mesh
