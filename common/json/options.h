// The two settings every part of common/json shares: how deep JSON may nest
// and how non-finite floats are written. The bottom of the library's
// dependency order (options <- number, quote <- scan, writer <- reader,
// canonical_writer <- json_text); see common/json/CMakeLists.txt.
#ifndef TELECLAUDE_MESH_COMMON_JSON_OPTIONS_H_
#define TELECLAUDE_MESH_COMMON_JSON_OPTIONS_H_

namespace teleclaude::mesh::json {

// Maximum nesting of arrays/objects accepted by every parser here.
inline constexpr int kMaxDepth = 200;

// How non-finite floats are written into canonical text (json_text.h).
enum class NonFinite {
  kNull,  // `null`, as model_dump_json does (the result is strict JSON)
  kKeep,  // `NaN`, `Infinity`, `-Infinity` ("model text", see json_text.h)
};

}  // namespace teleclaude::mesh::json

#endif  // TELECLAUDE_MESH_COMMON_JSON_OPTIONS_H_
