// EventEnvelope <-> mesh JSON (the `payload` of a mesh message; DESIGN §3.1,
// doc/wire.md "Envelope JSON"). Byte-compatible with the Python model's
// `model_validate_json` / `model_dump_json`. Pure functions; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_ENVELOPE_JSON_CODEC_H_
#define TELECLAUDE_MESH_COMMON_ENVELOPE_JSON_CODEC_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/envelope/envelope.h"

namespace teleclaude::mesh {

// Accepts exactly what the Python model accepts (including its loose forms:
// level as a digit string, an integral float or `true`; version as a digit
// string; duplicate keys, last one wins; timestamp as a string or a JSON
// number of Unix seconds; NaN/Infinity in JSON values). Extra top-level keys
// are kept in received order. A missing timestamp becomes the current UTC
// time.
//
// On failure returns InvalidArgument whose message starts with the field
// ("level: must be an integer 0-3 (INFRASTRUCTURE..BUSINESS), got \"two\"",
// "payload: expected a JSON object, got null",
// "actions.retry.produces: field required",
// "(root): not valid JSON: ... at offset 17"). When several fields are
// wrong, the first in declared field order is reported, as pydantic does.
//
// Known difference: `version` must fit in 64 bits (Python allows any int).
absl::StatusOr<EventEnvelope> DecodeEnvelopeJson(std::string_view json);

// The exact `model_dump_json` text: declared fields in declared order, then
// the extras. Non-finite floats are written as null.
// REQUIRES: the JSON-valued fields hold canonical/model text (as produced by
// the decoders here or json::Canonicalize); they are copied, not re-checked.
std::string EncodeEnvelopeJson(const EventEnvelope& envelope);
void AppendEnvelopeJson(const EventEnvelope& envelope, std::string* out);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_ENVELOPE_JSON_CODEC_H_
