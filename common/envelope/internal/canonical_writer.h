// Internal to common/envelope: the streaming writer that turns RapidJSON SAX
// events into canonical JSON text (json_text.h), and the parse entry point
// shared by the codecs. Not part of the public API.
#ifndef TELECLAUDE_MESH_COMMON_ENVELOPE_INTERNAL_CANONICAL_WRITER_H_
#define TELECLAUDE_MESH_COMMON_ENVELOPE_INTERNAL_CANONICAL_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/envelope/json_text.h"

// Vectorized string scanning in RapidJSON's reader (every x86-64 has SSE2).
#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2) && !defined(RAPIDJSON_SSE42)
#define RAPIDJSON_SSE2
#endif
#include "rapidjson/rapidjson.h"

namespace teleclaude::mesh::json::internal {

// What a raw number token from the reader is.
enum class NumberKind { kInteger, kFloat, kNaN, kPosInf, kNegInf, kInvalid };

// Classifies RapidJSON's raw number text (digits as written, or NaN/Inf
// spellings). Only `NaN`, `Infinity`, `-Infinity` are valid non-finite
// spellings (as in Python's json and pydantic's parser).
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

// AppendQuoted that also checks `s` is valid UTF-8 in the same pass; false
// (with a partial literal appended) when it is not.
bool AppendQuotedUtf8(std::string_view s, std::string* out);

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

// Canonicalize() without the AppendCanonicalIfPlain shortcut: always
// through the parser (for tests and fuzzers comparing the two).
absl::StatusOr<std::string> CanonicalizeWithParser(std::string_view any_json, NonFinite non_finite);

// For the string literal at text[i] == '"': the index of its closing quote
// when its content has no escapes and is valid UTF-8 (so the content is the
// string's value as is); std::string_view::npos otherwise.
size_t PlainStringClose(std::string_view text, size_t i);

// SAX handler writing canonical text to an output string. One value per
// Reset(). Thread-compatible.
class CanonicalWriter {
 public:
  explicit CanonicalWriter(NonFinite non_finite, int max_depth = kMaxDepth)
      : non_finite_(non_finite), max_depth_(max_depth) {}

  // Starts a new value appended to *out.
  void Reset(std::string* out) {
    out_ = out;
    depth_ = 0;
    error_.clear();
  }
  const std::string& error() const { return error_; }
  int depth() const { return depth_; }

  bool Null();
  bool Bool(bool b);
  bool Int(int) { return Unexpected(); }
  bool Uint(unsigned) { return Unexpected(); }
  bool Int64(int64_t) { return Unexpected(); }
  bool Uint64(uint64_t) { return Unexpected(); }
  bool Double(double) { return Unexpected(); }
  bool RawNumber(const char* str, rapidjson::SizeType length, bool copy);
  bool String(const char* str, rapidjson::SizeType length, bool copy);
  bool StartObject();
  bool Key(const char* str, rapidjson::SizeType length, bool copy);
  bool EndObject(rapidjson::SizeType member_count);
  bool StartArray();
  bool EndArray(rapidjson::SizeType element_count);

 private:
  struct Member {
    size_t begin;    // offset of the key's opening quote
    size_t key_end;  // offset just after the key's closing quote
    size_t end;      // offset just after the value
  };
  struct Frame {
    bool is_object = false;
    bool first = true;
    bool has_duplicates = false;
    uint64_t key_bits = 0;  // filter of the keys seen (see Key())
    size_t start = 0;
    std::vector<Member> members;
    std::unique_ptr<std::unordered_set<std::string>> key_set;
  };

  bool Unexpected();
  void BeforeValue();
  bool Enter(bool is_object);
  void CollapseDuplicates(Frame& frame);

  NonFinite non_finite_;
  int max_depth_;
  std::string* out_ = nullptr;
  int depth_ = 0;
  std::vector<Frame> frames_;  // frames_[0..depth_) are open
  std::string error_;
};

// Parses `text` with RapidJSON (iterative, numbers as strings, NaN/Inf,
// UTF-8 validated) into `handler`. On failure returns InvalidArgument
// "<what>: not valid JSON: <reason> at offset N", where the reason is the
// handler's own error when it stopped the parse. `reset()` must return the
// handler to its initial state: RapidJSON 1.1.0 refuses numbers it could not
// store in a double (1e400, integers of more than ~308 digits) even when it
// is only asked for their text, so such inputs are parsed a second time with
// those numbers masked (see PatchBigNumbers).
template <typename Handler, typename Reset>
absl::Status ParseJson(std::string_view text, Handler& handler, std::string_view what,
                       const std::string* handler_error, Reset reset);

// A number token replaced by the marker `Inf` (which is otherwise invalid
// input) for the second parse.
struct NumberPatch {
  size_t marker_end;  // offset just past the marker in the patched text
  std::string raw;    // the original token
};

// Copies `text`, replacing every number token outside strings that is long
// (over 300 characters) or has an exponent of 300 or more by `Inf`.
std::string PatchBigNumbers(std::string_view text, std::vector<NumberPatch>* patches);

// Scanning canonical text (REQUIRES canonical/model text; not validated).
// Unescapes the string literal at text[i] == '"'; sets i past its end.
std::string UnescapeAt(std::string_view text, size_t& i);
// Index just past the value starting at text[i].
size_t SkipValue(std::string_view text, size_t i);
// Encodes a code point as UTF-8.
void AppendUtf8(uint32_t cp, std::string* out);

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

// "object", "array", "string", "number", "boolean", "null" for canonical
// value text.
std::string_view KindOfCanonical(std::string_view text);

absl::Status ParseError(std::string_view what, int code, size_t offset,
                        const std::string* handler_error);

}  // namespace teleclaude::mesh::json::internal

#include "rapidjson/memorystream.h"
#include "rapidjson/reader.h"

namespace teleclaude::mesh::json::internal {

inline constexpr unsigned kReaderFlags = rapidjson::kParseIterativeFlag |
                                         rapidjson::kParseNumbersAsStringsFlag |
                                         rapidjson::kParseNanAndInfFlag;
// UTF-8 is checked per string by the handlers (IsValidUtf8, common/base/utf8.h), which is much
// faster than kParseValidateEncodingFlag and also catches the surrogates
// that lone `\uD800` escapes would otherwise produce. Bytes >= 0x80 outside
// strings are syntax errors anyway.
inline constexpr char kBadString[] =
    "string is not valid UTF-8 (or holds a lone UTF-16 surrogate escape)";

// Forwards SAX events, turning the markers of PatchBigNumbers back into the
// original number text (only at the recorded offsets).
template <typename Handler>
class UnpatchHandler {
 public:
  UnpatchHandler(Handler& h, const std::vector<NumberPatch>& patches,
                 const rapidjson::MemoryStream& stream)
      : h_(h), patches_(patches), stream_(stream) {}
  bool Null() { return h_.Null(); }
  bool Bool(bool b) { return h_.Bool(b); }
  bool Int(int v) { return h_.Int(v); }
  bool Uint(unsigned v) { return h_.Uint(v); }
  bool Int64(int64_t v) { return h_.Int64(v); }
  bool Uint64(uint64_t v) { return h_.Uint64(v); }
  bool Double(double v) { return h_.Double(v); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) {
    if (next_ < patches_.size() && n == 3 && std::string_view(s, n) == "Inf" &&
        stream_.Tell() == patches_[next_].marker_end) {
      const std::string& raw = patches_[next_++].raw;
      return h_.RawNumber(raw.data(), static_cast<rapidjson::SizeType>(raw.size()), true);
    }
    return h_.RawNumber(s, n, copy);
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return h_.String(s, n, copy); }
  bool StartObject() { return h_.StartObject(); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return h_.Key(s, n, copy); }
  bool EndObject(rapidjson::SizeType n) { return h_.EndObject(n); }
  bool StartArray() { return h_.StartArray(); }
  bool EndArray(rapidjson::SizeType n) { return h_.EndArray(n); }

 private:
  Handler& h_;
  const std::vector<NumberPatch>& patches_;
  const rapidjson::MemoryStream& stream_;
  size_t next_ = 0;
};

// A per-thread copy of the input for in-situ parsing (RapidJSON decodes
// strings in place and scans them with SIMD), with zero padding so that
// aligned 16-byte loads never leave the allocation.
char* InsituBuffer(std::string_view text);

template <typename Handler, typename Reset>
absl::Status ParseJson(std::string_view text, Handler& handler, std::string_view what,
                       const std::string* handler_error, Reset reset) {
  thread_local rapidjson::Reader reader;
  rapidjson::ParseResult result;
  if (std::memchr(text.data(), '\0', text.size()) == nullptr) {
    rapidjson::InsituStringStream stream(InsituBuffer(text));
    result = reader.Parse<kReaderFlags | rapidjson::kParseInsituFlag>(stream, handler);
  } else {  // an embedded NUL would end an in-situ parse early
    rapidjson::MemoryStream stream(text.data(), text.size());
    result = reader.Parse<kReaderFlags>(stream, handler);
  }
  if (result) return absl::OkStatus();
  if (result.Code() == rapidjson::kParseErrorNumberTooBig) {
    std::vector<NumberPatch> patches;
    std::string patched = PatchBigNumbers(text, &patches);
    reset();
    rapidjson::MemoryStream second(patched.data(), patched.size());
    UnpatchHandler<Handler> unpatch(handler, patches, second);
    result = reader.Parse<kReaderFlags>(second, unpatch);
    if (result) return absl::OkStatus();
  }
  return ParseError(what, static_cast<int>(result.Code()), result.Offset(), handler_error);
}

}  // namespace teleclaude::mesh::json::internal

#endif  // TELECLAUDE_MESH_COMMON_ENVELOPE_INTERNAL_CANONICAL_WRITER_H_
