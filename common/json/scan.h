// Walking JSON text that is canonical (json_text.h) without parsing it:
// recognizing canonical values so they can be copied as they are, skipping
// values and visiting an object's members. Pure functions; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_JSON_SCAN_H_
#define TELECLAUDE_MESH_COMMON_JSON_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/json/quote.h"

namespace teleclaude::mesh::json {

// Where a key lies in a text (scratch space of CanonicalValueEnd).
struct KeySpan {
  size_t begin;
  size_t size;
};

// When text[i] starts a value that is already canonical (model) text — no
// whitespace, canonical strings (valid UTF-8, only the escapes AppendQuoted
// writes), integers other than -0, floats that PlainDecimalLength keeps as
// they are, at most 40 characters each, no duplicate keys, at most
// `max_depth` levels of arrays/objects — returns the index just past it.
// Otherwise returns std::string_view::npos; the value may still be valid
// JSON (an exponent, an escaped '/', NaN ...) and is then to be parsed
// properly. Canonicalize() of an accepted value gives the same text back.
// `scratch` is working space (reused to avoid allocations).
size_t CanonicalValueEnd(std::string_view text, size_t i, int max_depth,
                         std::vector<KeySpan>* scratch);

// When `text` is a whole value that CanonicalValueEnd would accept (with
// nesting up to 32 levels) except that a single space may follow each `,`
// and `:` — Python json.dumps' default separators — appends it without those
// spaces, which is its canonical text, and returns true. Otherwise appends
// nothing and returns false.
bool AppendCanonicalIfPlain(std::string_view text, std::string* out);

// A one-bit filter over the length and edge characters of a quoted key
// (`"k"`, quotes included): the duplicate-key filter of the canonical scan
// and of CanonicalWriter. REQUIRES: size >= 2.
uint64_t KeyBit(const char* quoted_key, size_t size);

// Index just past the value starting at text[i]. REQUIRES: canonical/model
// text (not validated).
size_t SkipValue(std::string_view text, size_t i);

// Calls fn(key, value_text) for each member of canonical object text;
// returns false when the text is not an object.
template <typename Fn>
bool ForEachMember(std::string_view text, Fn fn) {
  if (text.size() < 2 || text.front() != '{') return false;
  size_t i = 1;
  while (i < text.size() && text[i] == '"') {
    std::string key = UnescapeAt(text, i);
    if (i >= text.size() || text[i] != ':') return true;
    ++i;
    size_t end = SkipValue(text, i);
    fn(key, text.substr(i, end - i));
    i = end;
    if (i < text.size() && text[i] == ',') ++i;
  }
  return true;
}

// Index just past the number token (digits, or NaN / Infinity / -Infinity)
// starting at text[i] of canonical/model text.
size_t NumberTokenEnd(std::string_view text, size_t i);

// Canonical (or model) text -> strict mesh text: replaces `NaN`, `Infinity`
// and `-Infinity` tokens (outside strings) with `null`; otherwise appends
// the text unchanged. REQUIRES: `canonical` is canonical/model text.
void AppendMeshJson(std::string_view canonical, std::string* out);

// "object", "array", "string", "number", "boolean", "null" for canonical
// value text ("nothing" for empty text).
std::string_view KindOfCanonical(std::string_view text);

}  // namespace teleclaude::mesh::json

#endif  // TELECLAUDE_MESH_COMMON_JSON_SCAN_H_
