// JSON numbers in canonical form (json_text.h, doc/wire.md "Canonical JSON
// text"): integers of any size as their exact digits (`-0` becomes `0`),
// floats as the shortest digits that read back to the same double, plain
// for 1e-5 <= |x| < 1e16 (integral values keep `.0`), exponent form
// otherwise. Works on the raw number text a parser hands over, so integers
// never pass through a double. Pure functions; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_JSON_NUMBER_H_
#define TELECLAUDE_MESH_COMMON_JSON_NUMBER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "common/json/options.h"

namespace teleclaude::mesh::json {

// What a raw number token from the reader is.
enum class NumberKind { kInteger, kFloat, kNaN, kPosInf, kNegInf, kInvalid };

// Classifies raw number text (digits as written, or NaN/Inf spellings).
// Only `NaN`, `Infinity`, `-Infinity` are valid non-finite spellings (as in
// Python's json and pydantic's parser).
NumberKind ClassifyNumber(std::string_view raw);

// Appends the canonical form of a raw number. Returns false (and sets
// *error) for an invalid spelling.
bool AppendCanonicalNumber(std::string_view raw, NonFinite non_finite, std::string* out,
                           std::string* error);

// For the common float spelling `-?digits.digits` (no exponent) with at
// most 15 significant digits and a magnitude the mesh layout writes plainly
// (1e-5 <= |x| < 1e16, or zero): the length of its canonical form, which is
// the text with the fraction's trailing zeros dropped ("8123.50" ->
// "8123.5", "2.000" -> "2.0", "-0.0" stays). Such a decimal reads to a
// double whose shortest round-trip digits are its own (DBL_DIG is 15).
// 0 for anything else (then format ParseDouble's value).
size_t PlainDecimalLength(std::string_view raw);

// Parses raw float text (JSON syntax) to double; overflow gives +-inf and
// underflow +-0.0, as Python's float() does.
double ParseDouble(std::string_view raw);

// Appends a finite or non-finite double in mesh (pydantic) or Python repr
// layout; non-finite values as NaN / Infinity / -Infinity.
void AppendDoubleMesh(double value, std::string* out);
void AppendDoublePython(double value, std::string* out);

// The same as strings.
// Mesh / pydantic style: "0.00001", "1e-6", "1e+16", "1.0", "-0.0";
// non-finite -> "NaN" / "Infinity" / "-Infinity".
std::string FormatDoubleMesh(double value);
// Python repr style: "1e-05", "0.0001", "1e+16", "1.0"; non-finite ->
// "NaN" / "Infinity" / "-Infinity" (json.dumps spelling).
std::string FormatDoublePython(double value);

}  // namespace teleclaude::mesh::json

#endif  // TELECLAUDE_MESH_COMMON_JSON_NUMBER_H_
