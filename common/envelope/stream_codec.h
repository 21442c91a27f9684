// EventEnvelope <-> flat local stream entry (DESIGN §3.2, doc/wire.md
// "Stream entry"): byte-compatible with the Python model's `to_stream_dict` /
// `from_stream_dict`. Pure functions; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_ENVELOPE_STREAM_CODEC_H_
#define TELECLAUDE_MESH_COMMON_ENVELOPE_STREAM_CODEC_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/envelope/envelope.h"

namespace teleclaude::mesh {

// Field name -> value, in the order written to / read from Redis.
using StreamFields = std::vector<std::pair<std::string, std::string>>;

// The fields of `to_stream_dict`, same order and bytes: event, version,
// source, timestamp, idempotency_key, level, domain, entity, description,
// visibility, payload, actions, terminal_when, resolution_shape, and `_extra`
// only when there are extras. JSON values in Python json.dumps style.
// REQUIRES: JSON-valued fields hold canonical/model text.
StreamFields EncodeEnvelopeStream(const EventEnvelope& envelope);

// As Python's `from_stream_dict`: field order is irrelevant (the last of
// repeated fields wins); `event`, `source`, `timestamp`, `level` are
// required; empty idempotency_key / entity / terminal_when become null;
// empty `payload` means {}; empty `actions` / `resolution_shape` mean null;
// `_extra` (a JSON object) supplies the extras. Unknown fields are ignored.
// On failure returns InvalidArgument starting with the field name, e.g.
// "level: must be an integer 0-3 (INFRASTRUCTURE..BUSINESS), got \"9\"".
absl::StatusOr<EventEnvelope> DecodeEnvelopeStream(const StreamFields& fields);
// The same, moving the text values out of `fields` instead of copying them
// (`fields` is left valid but unspecified).
absl::StatusOr<EventEnvelope> DecodeEnvelopeStream(StreamFields&& fields);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_ENVELOPE_STREAM_CODEC_H_
