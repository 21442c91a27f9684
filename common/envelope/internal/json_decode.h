// Internal to common/envelope, its tests and fuzzers: the mesh JSON decoder
// without its fast path, so that both ways of decoding can be checked to
// give the same result (json_codec.cc).
#ifndef TELECLAUDE_MESH_COMMON_ENVELOPE_INTERNAL_JSON_DECODE_H_
#define TELECLAUDE_MESH_COMMON_ENVELOPE_INTERNAL_JSON_DECODE_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "common/envelope/envelope.h"

namespace teleclaude::mesh::envelope_internal {

// DecodeEnvelopeJson that always parses with RapidJSON, never taking the
// model-text fast path. Same contract and results.
absl::StatusOr<EventEnvelope> DecodeEnvelopeJsonFullParse(std::string_view json);

// Whether DecodeEnvelopeJson takes its model-text fast path for `json` (no
// parser): tests check it stays taken for the text the mesh carries.
bool TakesModelTextFastPath(std::string_view json);

}  // namespace teleclaude::mesh::envelope_internal

#endif  // TELECLAUDE_MESH_COMMON_ENVELOPE_INTERNAL_JSON_DECODE_H_
