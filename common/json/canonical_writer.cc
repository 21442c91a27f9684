#include "common/json/canonical_writer.h"

#include <cstring>
#include <string_view>
#include <unordered_map>

#include "common/base/strings.h"
#include "common/json/scan.h"

namespace teleclaude::mesh::json {

bool CanonicalWriter::Unexpected() {
  error_ = "internal error: unexpected number event";
  return false;
}

bool CanonicalWriter::Null() {
  writer_.Null();
  return true;
}

bool CanonicalWriter::Bool(bool b) {
  writer_.Bool(b);
  return true;
}

bool CanonicalWriter::RawNumber(const char* str, rapidjson::SizeType length, bool) {
  return writer_.RawNumber(std::string_view(str, length), non_finite_, &error_);
}

bool CanonicalWriter::String(const char* str, rapidjson::SizeType length, bool) {
  if (!writer_.CheckedString(std::string_view(str, length))) {
    error_ = kBadString;
    return false;
  }
  return true;
}

bool CanonicalWriter::Enter(bool is_object) {
  const int depth = writer_.depth();
  if (depth >= max_depth_) {
    error_ = Cat("nesting deeper than ", kMaxDepth, " levels");
    return false;
  }
  writer_.Separate();
  if (static_cast<size_t>(depth) == frames_.size()) frames_.emplace_back();
  Frame& f = frames_[depth];
  f.has_duplicates = false;
  f.key_bits = 0;
  f.start = writer_.out()->size();
  f.members.clear();
  f.key_set.reset();
  if (is_object) {
    writer_.BeginObject();
  } else {
    writer_.BeginArray();
  }
  return true;
}

bool CanonicalWriter::StartObject() { return Enter(true); }
bool CanonicalWriter::StartArray() { return Enter(false); }

bool CanonicalWriter::Key(const char* str, rapidjson::SizeType length, bool) {
  Frame& f = frames_[writer_.depth() - 1];
  std::string* out = writer_.out();
  if (!f.members.empty()) f.members.back().end = out->size();
  writer_.Separate();
  const size_t begin = out->size();
  if (!writer_.CheckedKey(std::string_view(str, length))) {
    error_ = kBadString;
    return false;
  }
  const size_t key_end = out->size() - 1;  // before the ':'
  std::string_view key(out->data() + begin, key_end - begin);
  if (!f.has_duplicates) {
    if (f.key_set != nullptr) {
      if (!f.key_set->emplace(key).second) f.has_duplicates = true;
    } else {
      // A one-word filter over length and edge characters of the keys seen:
      // only a key whose bit is already set is compared with the others.
      const uint64_t bit = KeyBit(key.data(), key.size());
      if ((f.key_bits & bit) != 0) {
        for (const Member& m : f.members) {
          if (m.key_end - m.begin == key.size() &&
              std::memcmp(out->data() + m.begin, key.data(), key.size()) == 0) {
            f.has_duplicates = true;
            break;
          }
        }
      }
      f.key_bits |= bit;
      if (!f.has_duplicates && f.members.size() >= 16) {
        f.key_set = std::make_unique<std::unordered_set<std::string>>();
        for (const Member& m : f.members) {
          f.key_set->emplace(out->data() + m.begin, m.key_end - m.begin);
        }
        f.key_set->emplace(key);
      }
    }
  }
  f.members.push_back(Member{begin, key_end, 0});
  return true;
}

void CanonicalWriter::CollapseDuplicates(Frame& f) {
  // Python dict semantics: a key keeps the position of its first occurrence
  // and takes the value of its last.
  std::string* out = writer_.out();
  const std::string& src = *out;
  auto key_of = [&](const Member& m) {
    return std::string_view(src.data() + m.begin, m.key_end - m.begin);
  };
  std::unordered_map<std::string_view, size_t> last;
  last.reserve(f.members.size());
  for (size_t i = 0; i < f.members.size(); ++i) last[key_of(f.members[i])] = i;
  std::string rebuilt;
  rebuilt.reserve(src.size() - f.start + 1);
  rebuilt.push_back('{');
  bool first = true;
  for (const Member& m : f.members) {
    auto it = last.find(key_of(m));
    if (it->second == static_cast<size_t>(-1)) continue;  // already written
    const Member& v = f.members[it->second];
    if (!first) rebuilt.push_back(',');
    first = false;
    rebuilt.append(key_of(m));
    rebuilt.append(src, v.key_end, v.end - v.key_end);  // ':' + value
    it->second = static_cast<size_t>(-1);
  }
  out->resize(f.start);
  out->append(rebuilt);
}

bool CanonicalWriter::EndObject(rapidjson::SizeType) {
  Frame& f = frames_[writer_.depth() - 1];
  if (!f.members.empty()) f.members.back().end = writer_.out()->size();
  if (f.has_duplicates) CollapseDuplicates(f);
  writer_.EndObject();
  return true;
}

bool CanonicalWriter::EndArray(rapidjson::SizeType) {
  writer_.EndArray();
  return true;
}

}  // namespace teleclaude::mesh::json
