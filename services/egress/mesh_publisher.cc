#include "services/egress/mesh_publisher.h"

#include <vector>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/envelope/json_codec.h"
#include "common/envelope/json_text.h"

namespace teleclaude::mesh {

std::string MeshPublisher::MessageId(std::string_view self, std::string_view input_key,
                                     std::string_view peer) {
  return Cat(self, "/", input_key, "/", peer);
}

absl::StatusOr<Cartridge::Verdict> MeshPublisher::Process(EventEnvelope& event,
                                                          CartridgeContext& context) {
  if (event.visibility == Visibility::kLocal) return Verdict::kContinue;
  if (event.event == "cartridge.invoked") return Verdict::kContinue;
  if (context.origin == EventOrigin::kMesh) return Verdict::kContinue;
  if (json::GetMember(event.payload_json, "_mesh_source").has_value()) return Verdict::kContinue;

  std::shared_ptr<const PeerSnapshot> snapshot = peers_();
  std::vector<const PeerInfo*> targets;
  if (event.visibility == Visibility::kPublic) {
    for (const PeerInfo& p : snapshot->peers()) targets.push_back(&p);
  } else if (options_.self_cluster.has_value()) {
    for (const PeerInfo& p : snapshot->peers()) {
      if (p.cluster.has_value() && *p.cluster == *options_.self_cluster) targets.push_back(&p);
    }
  }
  if (targets.empty()) return Verdict::kContinue;
  std::string body = EncodeEnvelopeJson(event);
  for (const PeerInfo* peer : targets) {
    if (peer->name == options_.self_name) continue;  // never to itself
    TM_ASSIGN_OR_RETURN(
        int64_t id,
        db_->AddOutbox(OutboxKind::kMesh, peer->name,
                       MessageId(options_.self_name, context.input_key, peer->name), body));
    (void)id;
    ++rows_added_;
  }
  return Verdict::kContinue;
}

}  // namespace teleclaude::mesh
