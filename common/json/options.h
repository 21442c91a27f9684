// The two settings every part of common/json shares: how deep JSON may nest
// and how non-finite floats are written. The bottom of the library's
// dependency order (options <- number, quote <- scan, writer <- reader,
// canonical_writer <- json_text); see common/json/CMakeLists.txt.
#ifndef TELECLAUDE_MESH_COMMON_JSON_OPTIONS_H_
#define TELECLAUDE_MESH_COMMON_JSON_OPTIONS_H_

#include <cstddef>

namespace teleclaude::mesh::json {

// The two bounds every JSON reader of every service applies (issue 18;
// reader.h enforces them: ParseJson for SAX handlers, ParseDocument for DOM
// readers), whatever the handler does:
// maximum nesting of arrays/objects,
inline constexpr int kMaxDepth = 200;
// and maximum size of one JSON text, bytes. Every gRPC request and mesh
// message is smaller already (--max_message_bytes, at most this).
inline constexpr size_t kMaxTextBytes = 64 << 20;

// How non-finite floats are written into canonical text (json_text.h).
enum class NonFinite {
  kNull,  // `null`, as model_dump_json does (the result is strict JSON)
  kKeep,  // `NaN`, `Infinity`, `-Infinity` ("model text", see json_text.h)
};

}  // namespace teleclaude::mesh::json

#endif  // TELECLAUDE_MESH_COMMON_JSON_OPTIONS_H_
