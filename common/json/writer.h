// The project's one JSON writer: builds a JSON value as canonical text
// (json_text.h, doc/wire.md "Canonical JSON text") by appending to a string
// the caller owns. Every JSON the project writes — envelopes, payloads of
// the events services emit, telec's --json output, and the canonical form
// of parsed text (CanonicalWriter) — goes through it.
//
//   std::string out;
//   json::Writer w(&out);
//   w.BeginObject().Key("name").String(name).Key("count").Int(n).EndObject();
//
// Separators are implied: a comma is written before a key or an array
// element that follows a complete value. The writer keeps only that flag and
// the nesting depth, so it is cheap enough for the codecs' hot paths.
// REQUIRES: calls form one JSON value (keys only directly in objects, each
// followed by one value); this is not checked. Thread-compatible.
#ifndef TELECLAUDE_MESH_COMMON_JSON_WRITER_H_
#define TELECLAUDE_MESH_COMMON_JSON_WRITER_H_

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "common/json/number.h"
#include "common/json/options.h"
#include "common/json/quote.h"
#include "common/json/scan.h"

namespace teleclaude::mesh::json {

class Writer {
 public:
  // Appends to *out (which may hold text already); `out` must outlive the
  // writer.
  explicit Writer(std::string* out) : out_(out) {}

  Writer& BeginObject() { return Open('{'); }
  Writer& EndObject() { return Close('}'); }
  Writer& BeginArray() { return Open('['); }
  Writer& EndArray() { return Close(']'); }

  // An object member's key.
  Writer& Key(std::string_view utf8) {
    Separate();
    AppendQuoted(utf8, out_);
    out_->push_back(':');
    return *this;
  }
  Writer& String(std::string_view utf8) {
    Separate();
    AppendQuoted(utf8, out_);
    return Done();
  }
  // A string whose content `append(std::string*)` appends to the output
  // directly (e.g. a formatted timestamp), saving a copy.
  // REQUIRES: the content is valid UTF-8 that needs no escaping.
  template <typename AppendFn>
  Writer& UnescapedString(AppendFn append) {
    Separate();
    out_->push_back('"');
    append(out_);
    out_->push_back('"');
    return Done();
  }
  // A string, or null when unset.
  Writer& OptionalString(const std::optional<std::string>& utf8) {
    return utf8.has_value() ? String(*utf8) : Null();
  }
  Writer& Int(int64_t value) {
    Separate();
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof(buf), value);
    out_->append(buf, res.ptr);
    return Done();
  }
  // A float in mesh layout (number.h); non-finite as `non_finite` says.
  Writer& Double(double value, NonFinite non_finite = NonFinite::kNull);
  Writer& Bool(bool value) {
    Separate();
    out_->append(value ? "true" : "false");
    return Done();
  }
  Writer& Null() {
    Separate();
    out_->append("null");
    return Done();
  }
  Writer& StringList(const auto& utf8_strings) {
    BeginArray();
    for (const auto& s : utf8_strings) String(s);
    return EndArray();
  }

  // A value that is canonical text already (e.g. a field of EventEnvelope),
  // copied as it is. REQUIRES: `canonical` is one canonical value.
  Writer& Canonical(std::string_view canonical) {
    Separate();
    out_->append(canonical);
    return Done();
  }
  // Canonical or model text (which may hold NaN / Infinity) as strict JSON:
  // those tokens become null (AppendMeshJson, scan.h).
  // REQUIRES: `model_text` is one canonical/model value.
  Writer& MeshValue(std::string_view model_text) {
    Separate();
    AppendMeshJson(model_text, out_);
    return Done();
  }

  // For writers of untrusted text (CanonicalWriter): the same as Key and
  // String, but false (with a partial literal written) when `s` is not
  // valid UTF-8.
  bool CheckedKey(std::string_view s) {
    Separate();
    if (!AppendQuotedUtf8(s, out_)) return false;
    out_->push_back(':');
    return true;
  }
  bool CheckedString(std::string_view s) {
    Separate();
    const bool ok = AppendQuotedUtf8(s, out_);
    Done();
    return ok;
  }
  // A raw number token in canonical form (AppendCanonicalNumber, number.h);
  // false (and *error set) for an invalid spelling.
  bool RawNumber(std::string_view raw, NonFinite non_finite, std::string* error) {
    Separate();
    const bool ok = AppendCanonicalNumber(raw, non_finite, out_, error);
    Done();
    return ok;
  }

  // Writes now the comma that the next key or array element needs, if any
  // (so that out()->size() is where that key or element starts).
  void Separate() {
    if (after_value_) {
      out_->push_back(',');
      after_value_ = false;
    }
  }

  // Open arrays and objects.
  int depth() const { return depth_; }
  // The string written to.
  std::string* out() const { return out_; }

 private:
  Writer& Done() {
    after_value_ = true;
    return *this;
  }
  Writer& Open(char c) {
    Separate();
    out_->push_back(c);
    ++depth_;
    return *this;
  }
  Writer& Close(char c) {
    out_->push_back(c);
    --depth_;
    return Done();
  }

  std::string* out_;
  int depth_ = 0;
  // A value was completed last: the next key or element needs a comma.
  bool after_value_ = false;
};

}  // namespace teleclaude::mesh::json

#endif  // TELECLAUDE_MESH_COMMON_JSON_WRITER_H_
