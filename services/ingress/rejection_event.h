// The local `mesh.event.rejected` event ingress submits for every refused
// mesh message (DESIGN §5, doc/ingress.md "mesh.event.rejected").
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_REJECTION_EVENT_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_REJECTION_EVENT_H_

#include <string>
#include <string_view>

#include "common/envelope/envelope.h"
#include "services/ingress/mesh_entry_decoder.h"

namespace teleclaude::mesh {

inline constexpr std::string_view kMeshEventRejected = "mesh.event.rejected";

// event mesh.event.rejected, level OPERATIONAL, visibility local, domain
// "mesh", source = this computer, entity "mesh/{source_computer}" when known,
// payload {source_computer, event_type (when known), reason, detail, raw,
// stream_entry_id}. Pure; thread-safe.
EventEnvelope BuildRejectionEvent(const Rejection& rejection, std::string_view self_name,
                                  std::string_view stream_entry_id);

// "rejected:{stream_entry_id}" — the stable Submit message_id of that event,
// so a retried batch does not create a second notification.
std::string RejectionMessageId(std::string_view stream_entry_id);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_REJECTION_EVENT_H_
