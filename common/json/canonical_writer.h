// CanonicalWriter: the RapidJSON SAX handler that turns parse events of any
// JSON text into canonical text (json_text.h) through the one json::Writer,
// collapsing duplicate object keys the way a Python dict does (first
// position, last value). Canonicalize() and the envelope codecs parse into
// it with ParseJson (reader.h).
#ifndef TELECLAUDE_MESH_COMMON_JSON_CANONICAL_WRITER_H_
#define TELECLAUDE_MESH_COMMON_JSON_CANONICAL_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/json/options.h"
#include "common/json/reader.h"
#include "common/json/writer.h"

namespace teleclaude::mesh::json {

// SAX handler writing canonical text to an output string. One value per
// Reset(); a handler method returning false stops the parse, with error()
// saying why (invalid UTF-8, an invalid number, nesting deeper than
// `max_depth`). Reusable: its frames keep their capacity. Thread-compatible.
class CanonicalWriter {
 public:
  explicit CanonicalWriter(NonFinite non_finite, int max_depth = kMaxDepth)
      : non_finite_(non_finite), max_depth_(max_depth) {}

  // Starts a new value appended to *out.
  void Reset(std::string* out) {
    writer_ = Writer(out);
    error_.clear();
  }
  const std::string& error() const { return error_; }
  // Open arrays and objects.
  int depth() const { return writer_.depth(); }

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
    bool has_duplicates = false;
    uint64_t key_bits = 0;  // filter of the keys seen (see Key())
    size_t start = 0;
    std::vector<Member> members;
    std::unique_ptr<std::unordered_set<std::string>> key_set;
  };

  bool Unexpected();
  bool Enter(bool is_object);
  void CollapseDuplicates(Frame& frame);

  NonFinite non_finite_;
  int max_depth_;
  Writer writer_{nullptr};
  std::vector<Frame> frames_;  // frames_[0..depth()) are open
  std::string error_;
};

}  // namespace teleclaude::mesh::json

#endif  // TELECLAUDE_MESH_COMMON_JSON_CANONICAL_WRITER_H_
