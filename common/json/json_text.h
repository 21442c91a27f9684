// Canonical JSON text: the one form in which JSON values are held in memory
// (EventEnvelope::payload_json etc.) and written to the mesh. Details and
// examples: doc/wire.md, "Canonical JSON text".
//
// Canonical text is exactly what the Python model's `model_dump_json` writes
// for a value: compact (no whitespace), strings as raw UTF-8 with only `"`,
// `\` and characters below 0x20 escaped (`\b \f \n \r \t` short forms, others
// lower-case `\u00XX`), `/` not escaped; integers of any size as their exact
// digits (`-0` becomes `0`); floats as the shortest digits that read back to
// the same double, plain for 1e-5 <= |x| < 1e16 (integral values keep `.0`),
// exponent form otherwise (`1e-6`, `9.9e-6`, `1e+16`); duplicate object keys
// collapsed the way a Python dict does (first position, last value).
//
// Non-finite floats: Python keeps NaN / Infinity (and overflowing numbers
// such as 1e400, which become Infinity) as floats; `model_dump_json` writes
// them as `null` but `json.dumps` (stream entries) writes `NaN`, `Infinity`,
// `-Infinity`. Canonicalize() writes `null` (pure JSON). The envelope codecs
// keep the tokens `NaN`, `Infinity`, `-Infinity` in EventEnvelope's JSON
// fields ("model text") so both wire forms come out right; every function in
// this header accepts such text.
//
// All functions are pure and thread-safe. Nesting deeper than kMaxDepth
// levels is rejected (the Python model's JSON parser has the same kind of
// limit).
//
// This header is the canonical-text API of common/json and includes its
// parts: string literals (quote.h: Quote, AppendQuoted ...), numbers
// (number.h: FormatDoubleMesh ...) and scanning canonical text (scan.h:
// AppendMeshJson, ForEachMember ...). To build JSON, use json::Writer
// (writer.h).
#ifndef TELECLAUDE_MESH_COMMON_JSON_JSON_TEXT_H_
#define TELECLAUDE_MESH_COMMON_JSON_JSON_TEXT_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/json/number.h"
#include "common/json/options.h"
#include "common/json/quote.h"
#include "common/json/scan.h"

namespace teleclaude::mesh::json {

// Any JSON text (surrounding whitespace allowed; `NaN`, `Infinity`,
// `-Infinity` accepted as values) -> canonical text. InvalidArgument
// "not valid JSON: <reason> at offset N" on bad input (including invalid
// UTF-8 and lone surrogate escapes).
absl::StatusOr<std::string> Canonicalize(std::string_view any_json,
                                         NonFinite non_finite = NonFinite::kNull);

// As Canonicalize, but the value must be an object; errors start with
// `field_name`, e.g. "payload: expected a JSON object, got array".
absl::StatusOr<std::string> CanonicalizeObject(std::string_view any_json,
                                               std::string_view field_name,
                                               NonFinite non_finite = NonFinite::kNull);

// Canonicalize() without its shortcut for text that is canonical already
// (AppendCanonicalIfPlain, scan.h): always through the parser (for tests
// and fuzzers comparing the two).
absl::StatusOr<std::string> CanonicalizeWithParser(std::string_view any_json, NonFinite non_finite);

// Canonical (or model) text -> Python `json.dumps` text (default settings):
// `", "` and `": "` separators, every non-ASCII character as `\uXXXX`
// (surrogate pairs above U+FFFF, DEL as `\u007f`), floats in Python repr
// style (`1e-05`, `1e+16`, `0.0001`), `NaN` / `Infinity` kept.
// REQUIRES: `canonical` is canonical/model text (not checked).
std::string ToPythonJson(std::string_view canonical);
void AppendPythonJson(std::string_view canonical, std::string* out);

// Canonical text of the top-level member `key` of `object_json` (any JSON
// text; the last of duplicate keys wins); nullopt when the text is not an
// object or has no such member.
std::optional<std::string> GetMember(std::string_view object_json, std::string_view key);

// The unescaped value of member `key` when it is a JSON string; nullopt
// otherwise (absent, other type, not an object).
std::optional<std::string> GetMemberString(std::string_view object_json, std::string_view key);

// Returns canonical text of `object_json` with member `key` set to
// `value_json` (any JSON text): an existing member keeps its position (Python
// dict semantics), a new one is appended. InvalidArgument when
// `object_json` is not an object or `value_json` is not valid JSON.
absl::StatusOr<std::string> SetMember(std::string_view object_json, std::string_view key,
                                      std::string_view value_json);

// What Python's `str()` gives for the JSON value in `canonical_value`:
// string -> its raw text, integer -> digits, float -> repr (`1e-05`, `0.1`,
// `nan`, `inf`), true/false/null -> `True`/`False`/`None`, list/dict ->
// Python repr (`{'a': 1, 'b': [True, None]}`, strings quoted as repr does).
// Text that is not valid JSON is returned unchanged.
std::string PythonStr(std::string_view canonical_value);

}  // namespace teleclaude::mesh::json

#endif  // TELECLAUDE_MESH_COMMON_JSON_JSON_TEXT_H_
