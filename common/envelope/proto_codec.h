// EventEnvelope <-> teleclaude.mesh.v1.EventEnvelope (the gRPC form used
// between the processes of one computer; proto/teleclaude/mesh/v1/
// envelope.proto). Lossless in both directions for valid envelopes. Pure
// functions; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_ENVELOPE_PROTO_CODEC_H_
#define TELECLAUDE_MESH_COMMON_ENVELOPE_PROTO_CODEC_H_

#include "absl/status/statusor.h"
#include "common/envelope/envelope.h"
#include "teleclaude/mesh/v1/envelope.pb.h"

namespace teleclaude::mesh {

// Fills `out` (cleared first). timestamp = mesh-style text; JSON fields as
// model text; extra_json = a JSON object of the extras in order ("" when
// there are none). REQUIRES: out != nullptr.
void EnvelopeToProto(const EventEnvelope& envelope, teleclaude::mesh::v1::EventEnvelope* out);

// Validates like DecodeEnvelopeJson: empty `event` or `source` rejected,
// level/visibility must be known enum values, payload_json must be an object
// ("" means {}), actions_json / resolution_shape_json must have the shapes of
// the model, timestamp text must parse ("" means now, UTC), extra_json must
// be an object or empty and may not repeat declared field names. JSON text
// is canonicalized. Errors are InvalidArgument starting with the field name.
absl::StatusOr<EventEnvelope> EnvelopeFromProto(const teleclaude::mesh::v1::EventEnvelope& proto);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_ENVELOPE_PROTO_CODEC_H_
