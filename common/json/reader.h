// Parsing JSON text with RapidJSON, the way every parser in the project does
// it: within the bounds of options.h (kMaxTextBytes, kMaxDepth: enforced
// here, not left to handlers), iterative (no recursion on hostile nesting),
// numbers
// handed over as their raw text (so integers of any size stay exact),
// `NaN` / `Infinity` / `-Infinity` accepted, and numbers RapidJSON 1.1.0
// refuses to read (1e400, integers of hundreds of digits) still delivered.
// Handlers check UTF-8 per string themselves (common/base/utf8.h).
// Thread-safe (per-thread reader and buffer).
#ifndef TELECLAUDE_MESH_COMMON_JSON_READER_H_
#define TELECLAUDE_MESH_COMMON_JSON_READER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/json/options.h"

// Vectorized string scanning in RapidJSON's reader (every x86-64 has SSE2).
#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2) && !defined(RAPIDJSON_SSE42)
#define RAPIDJSON_SSE2
#endif
#include "rapidjson/rapidjson.h"
//
#include "rapidjson/document.h"
#include "rapidjson/memorystream.h"
#include "rapidjson/reader.h"

namespace teleclaude::mesh::json {

// Parses `text` with RapidJSON (iterative, numbers as strings, NaN/Inf,
// UTF-8 validated) into `handler`. On failure returns InvalidArgument
// "<what>: not valid JSON: <reason> at offset N", where the reason is the
// handler's own error when it stopped the parse, or "nesting deeper than 200
// levels"; a text over kMaxTextBytes is refused before parsing
// ("<what>: N bytes of JSON; at most 67108864"). `reset()` must return the
// handler to its initial state: RapidJSON 1.1.0 refuses numbers it could not
// store in a double (1e400, integers of more than ~308 digits) even when it
// is only asked for their text, so such inputs are parsed a second time with
// those numbers masked (see PatchBigNumbers).
template <typename Handler, typename Reset>
absl::Status ParseJson(std::string_view text, Handler& handler, std::string_view what,
                       const std::string* handler_error, Reset reset);

// Parses `text` into `doc` (RapidJSON's DOM) within the same bounds,
// iteratively, with `Flags` added to kParseIterativeFlag. Errors as
// ParseJson's. For readers that want a DOM (small inputs: cartridge
// payloads, heartbeats, stored lists).
template <unsigned Flags = 0>
absl::Status ParseDocument(std::string_view text, std::string_view what, rapidjson::Document* doc);

// A number token replaced by the marker `Inf` (which is otherwise invalid
// input) for the second parse.
struct NumberPatch {
  size_t marker_end;  // offset just past the marker in the patched text
  std::string raw;    // the original token
};

// Copies `text`, replacing every number token outside strings that is long
// (over 300 characters) or has an exponent of 300 or more by `Inf`.
std::string PatchBigNumbers(std::string_view text, std::vector<NumberPatch>* patches);

// The error ParseJson returns for RapidJSON error `code` at `offset`.
absl::Status ParseError(std::string_view what, int code, size_t offset,
                        const std::string* handler_error);

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

// Forwards SAX events to `Handler` and stops the parse (handler error
// "nesting deeper than kMaxDepth levels") at the first array or object
// nested deeper than kMaxDepth.
template <typename Handler>
class DepthLimit {
 public:
  explicit DepthLimit(Handler& h) : h_(h) {}
  // Whether the limit stopped the parse; the error it set.
  bool exceeded() const { return exceeded_; }
  static const std::string& Error();

  bool Null() { return h_.Null(); }
  bool Bool(bool b) { return h_.Bool(b); }
  bool Int(int v) { return h_.Int(v); }
  bool Uint(unsigned v) { return h_.Uint(v); }
  bool Int64(int64_t v) { return h_.Int64(v); }
  bool Uint64(uint64_t v) { return h_.Uint64(v); }
  bool Double(double v) { return h_.Double(v); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) {
    return h_.RawNumber(s, n, copy);
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return h_.String(s, n, copy); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return h_.Key(s, n, copy); }
  bool StartObject() { return Enter() && h_.StartObject(); }
  bool EndObject(rapidjson::SizeType n) {
    --depth_;
    return h_.EndObject(n);
  }
  bool StartArray() { return Enter() && h_.StartArray(); }
  bool EndArray(rapidjson::SizeType n) {
    --depth_;
    return h_.EndArray(n);
  }

 private:
  bool Enter() {
    if (++depth_ <= kMaxDepth) return true;
    exceeded_ = true;
    return false;
  }

  Handler& h_;
  int depth_ = 0;
  bool exceeded_ = false;
};

// OK when `text` is one JSON value within the bounds (syntax, size, depth;
// strings are not checked for UTF-8); otherwise ParseJson's error. For
// handlers that pass JSON text on without reading it.
absl::Status ValidateJsonText(std::string_view text, std::string_view what);

// INVALID_ARGUMENT "<what>: N bytes of JSON; at most kMaxTextBytes", or OK.
absl::Status CheckTextSize(std::string_view text, std::string_view what);

// INVALID_ARGUMENT "<what>: not valid JSON: a NUL byte at offset N", or OK.
// A raw NUL is never valid JSON (outside strings it is no token; inside one it
// is an unescaped control character), but RapidJSON's streams read it as the
// end of the input, so "1\0<anything>" would parse as 1. Every reader checks
// this first.
absl::Status CheckNoNulByte(std::string_view text, std::string_view what);

// A per-thread copy of the input for in-situ parsing (RapidJSON decodes
// strings in place and scans them with SIMD), with zero padding so that
// aligned 16-byte loads never leave the allocation.
char* InsituBuffer(std::string_view text);

template <typename Handler>
const std::string& DepthLimit<Handler>::Error() {
  static const std::string* const kError =
      new std::string("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
  return *kError;
}

template <typename Handler, typename Reset>
absl::Status ParseJson(std::string_view text, Handler& handler, std::string_view what,
                       const std::string* handler_error, Reset reset) {
  if (absl::Status size = CheckTextSize(text, what); !size.ok()) return size;
  if (absl::Status nul = CheckNoNulByte(text, what); !nul.ok()) return nul;
  thread_local rapidjson::Reader reader;
  rapidjson::ParseResult result;
  bool too_deep = false;
  {
    DepthLimit<Handler> limited(handler);
    rapidjson::InsituStringStream stream(InsituBuffer(text));
    result = reader.Parse<kReaderFlags | rapidjson::kParseInsituFlag>(stream, limited);
    too_deep = limited.exceeded();
  }
  if (result) return absl::OkStatus();
  if (result.Code() == rapidjson::kParseErrorNumberTooBig) {
    std::vector<NumberPatch> patches;
    std::string patched = PatchBigNumbers(text, &patches);
    reset();
    rapidjson::MemoryStream second(patched.data(), patched.size());
    UnpatchHandler<Handler> unpatch(handler, patches, second);
    DepthLimit<UnpatchHandler<Handler>> limited(unpatch);
    result = reader.Parse<kReaderFlags>(second, limited);
    if (result) return absl::OkStatus();
    too_deep = limited.exceeded();
  }
  return ParseError(what, static_cast<int>(result.Code()), result.Offset(),
                    too_deep ? &DepthLimit<Handler>::Error() : handler_error);
}

template <unsigned Flags>
absl::Status ParseDocument(std::string_view text, std::string_view what, rapidjson::Document* doc) {
  if (absl::Status size = CheckTextSize(text, what); !size.ok()) return size;
  if (absl::Status nul = CheckNoNulByte(text, what); !nul.ok()) return nul;
  rapidjson::ParseResult result;
  bool too_deep = false;
  // Populate hands the document to the generator as the SAX handler, so the
  // depth limit sits between the reader and the document.
  auto generate = [&](rapidjson::Document& handler) {
    rapidjson::Reader reader;
    rapidjson::MemoryStream stream(text.data(), text.size());
    DepthLimit<rapidjson::Document> limited(handler);
    result = reader.Parse<Flags | rapidjson::kParseIterativeFlag>(stream, limited);
    too_deep = limited.exceeded();
    return !result.IsError();
  };
  doc->SetNull();
  doc->Populate(generate);
  if (!result.IsError()) return absl::OkStatus();
  doc->SetNull();
  return ParseError(what, static_cast<int>(result.Code()), result.Offset(),
                    too_deep ? &DepthLimit<rapidjson::Document>::Error() : nullptr);
}

}  // namespace teleclaude::mesh::json

#endif  // TELECLAUDE_MESH_COMMON_JSON_READER_H_
