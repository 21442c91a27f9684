#include "services/egress/cartridges/mesh_publisher.h"

#include <vector>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/envelope/json_codec.h"
#include "common/json/json_text.h"
#include "common/mesh/peer_name.h"
#include "glog/logging.h"

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
  // The mesh outbox keeps a row's peers as one space-separated text
  // (events_db.cc JoinPeers), so a name holding a space (a Python computer
  // may have one) cannot be among them yet: such a peer is listed and
  // trusted but not sent to, and the log says so, until the outbox keeps
  // one row per destination (issue 16, the delivery work).
  std::erase_if(targets, [](std::string_view name) {
    if (name.find(' ') == std::string_view::npos) return false;
    LOG_EVERY_T(WARNING, 60) << "mesh-publisher: not forwarding to " << DisplayPeerName(name)
                             << ": the mesh outbox cannot hold a peer name with a space yet";
    return true;
  });
  if (targets.empty()) return Verdict::kContinue;
  TM_RETURN_IF_ERROR(outbox_
                         ->Append(targets, MessageIdPrefix(options_.self_name, context.input_key),
                                  EncodeEnvelopeJson(event))
                         .status());
  deliveries_added_ += static_cast<int64_t>(targets.size());
  return Verdict::kContinue;
}

}  // namespace teleclaude::mesh
