// JSON string literals in canonical form (json_text.h, doc/wire.md
// "Canonical JSON text"): writing them (canonical and Python json.dumps
// style), reading them back, and recognizing literals that are canonical
// already. Pure functions; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_JSON_QUOTE_H_
#define TELECLAUDE_MESH_COMMON_JSON_QUOTE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace teleclaude::mesh::json {

// A JSON string literal (with quotes) for `utf8` in canonical style: raw
// UTF-8, only `"`, `\` and characters below 0x20 escaped (`\b \f \n \r \t`
// short forms, others lower-case `\u00XX`), `/` not escaped.
std::string Quote(std::string_view utf8);
void AppendQuoted(std::string_view utf8, std::string* out);

// AppendQuoted that also checks `s` is valid UTF-8 in the same pass; false
// (with a partial literal appended) when it is not.
bool AppendQuotedUtf8(std::string_view s, std::string* out);

// The same in Python json.dumps style (ensure_ascii): every non-ASCII
// character as `\uXXXX` (surrogate pairs above U+FFFF, DEL as `\u007f`).
void AppendPythonQuoted(std::string_view utf8, std::string* out);

// Unescapes the string literal at text[i] == '"'; sets i just past its
// closing quote. REQUIRES: canonical/model text (not validated).
std::string UnescapeAt(std::string_view text, size_t& i);

// Encodes a code point as UTF-8.
void AppendUtf8(uint32_t cp, std::string* out);

// Decodes one UTF-8 sequence at s[i] (valid UTF-8 assumed; a broken byte is
// returned as itself). Advances i. REQUIRES: i < s.size().
uint32_t DecodeUtf8(std::string_view s, size_t& i);

// For the string literal at s[i] == '"': the index just past its closing
// quote when it is a canonical literal (valid UTF-8, only the escapes
// AppendQuoted writes); std::string_view::npos otherwise.
size_t CanonicalStringEnd(const char* s, size_t i, size_t n);

// For the string literal at text[i] == '"': the index of its closing quote
// when its content has no escapes and is valid UTF-8 (so the content is the
// string's value as is); std::string_view::npos otherwise.
size_t PlainStringClose(std::string_view text, size_t i);

}  // namespace teleclaude::mesh::json

#endif  // TELECLAUDE_MESH_COMMON_JSON_QUOTE_H_
