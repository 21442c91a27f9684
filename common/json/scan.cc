// Walking canonical JSON text: see scan.h.
#include "common/json/scan.h"

#include <algorithm>
#include <cstring>

#include "common/json/number.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace teleclaude::mesh::json {

namespace {

size_t SkipString(std::string_view text, size_t i) {
  ++i;
  while (i < text.size()) {
    const void* q = std::memchr(text.data() + i, '"', text.size() - i);
    if (q == nullptr) return text.size();
    size_t quote = static_cast<const char*>(q) - text.data();
    size_t backslashes = 0;
    while (quote - backslashes > i && text[quote - backslashes - 1] == '\\') {
      ++backslashes;
    }
    if (backslashes % 2 == 0) return quote + 1;
    i = quote + 1;
  }
  return text.size();
}

}  // namespace

size_t SkipValue(std::string_view text, size_t i) {
  if (i >= text.size()) return i;
  char c = text[i];
  if (c == '"') return SkipString(text, i);
  if (c == '{' || c == '[') {
    int depth = 0;
    while (i < text.size()) {
      char d = text[i];
      if (d == '"') {
        i = SkipString(text, i);
        continue;
      }
      ++i;
      if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0) return i;
      }
    }
    return i;
  }
  while (i < text.size() && text[i] != ',' && text[i] != '}' && text[i] != ']') {
    ++i;
  }
  return i;
}

namespace {

constexpr size_t kNotCanonical = std::string_view::npos;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A JSON number without exponent, at most 40 characters, in canonical form
// (integers without "-0", floats as PlainDecimalLength keeps them).
size_t CanonicalNumberEnd(const char* s, size_t i, size_t n) {
  const size_t start = i;
  if (i < n && s[i] == '-') ++i;
  if (i >= n || !IsDigit(s[i])) return kNotCanonical;
  if (s[i] == '0') {
    ++i;
    if (i < n && IsDigit(s[i])) return kNotCanonical;  // leading zero: not JSON
  } else {
    while (i < n && IsDigit(s[i])) ++i;
  }
  bool is_float = false;
  if (i < n && s[i] == '.') {
    is_float = true;
    ++i;
    if (i >= n || !IsDigit(s[i])) return kNotCanonical;
    while (i < n && IsDigit(s[i])) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) return kNotCanonical;
  const std::string_view raw(s + start, i - start);
  if (raw.size() > 40) return kNotCanonical;
  if (is_float ? PlainDecimalLength(raw) != raw.size() : raw == "-0") return kNotCanonical;
  return i;
}

size_t LiteralEnd(const char* s, size_t i, size_t n, std::string_view literal) {
  if (n - i < literal.size() || std::memcmp(s + i, literal.data(), literal.size()) != 0) {
    return kNotCanonical;
  }
  return i + literal.size();
}

}  // namespace

uint64_t KeyBit(const char* key, size_t size) {
  uint64_t h = size;
  h = h * 131 + static_cast<unsigned char>(key[1]);
  h = h * 131 + static_cast<unsigned char>(key[size - 2]);
  return uint64_t{1} << ((h * 0x9E3779B97F4A7C15ULL) >> 58);
}

namespace {

// Walks a value that is canonical text, or canonical text but for one space
// after each `,` and `:` (Python json.dumps' separators) when `spaced`, and
// optionally copies it without those spaces to `out`. Thread-compatible.
class CanonicalScanner {
 public:
  CanonicalScanner(std::string_view text, bool spaced, std::vector<KeySpan>* keys, std::string* out)
      : s_(text.data()), n_(text.size()), spaced_(spaced), keys_(keys), out_(out) {
    keys_->clear();
  }

  // The end of the value at i, or kNotCanonical.
  size_t ValueEnd(size_t i, int depth) {
    if (i >= n_) return kNotCanonical;
    switch (s_[i]) {
      case '"':
        return CanonicalStringEnd(s_, i, n_);
      case 't':
        return LiteralEnd(s_, i, n_, "true");
      case 'f':
        return LiteralEnd(s_, i, n_, "false");
      case 'n':
        return LiteralEnd(s_, i, n_, "null");
      case '[':
        return ArrayEnd(i, depth);
      case '{':
        return ObjectEnd(i, depth);
      default:
        return CanonicalNumberEnd(s_, i, n_);
    }
  }

  // Copies what is left of [0, end) to `out` (after ValueEnd succeeded).
  void Finish(size_t end) {
    if (out_ != nullptr) out_->append(s_ + run_, end - run_);
  }

 private:
  // After a separator at s[i - 1]: skips the space Python writes there.
  size_t AfterSeparator(size_t i) {
    if (spaced_ && i < n_ && s_[i] == ' ') {
      if (out_ != nullptr) out_->append(s_ + run_, i - run_);
      run_ = ++i;
    }
    return i;
  }

  size_t ArrayEnd(size_t i, int depth) {
    if (depth <= 0) return kNotCanonical;
    ++i;
    if (i < n_ && s_[i] == ']') return i + 1;
    while (true) {
      i = ValueEnd(i, depth - 1);
      if (i >= n_) return kNotCanonical;  // also kNotCanonical itself
      if (s_[i] == ']') return i + 1;
      if (s_[i] != ',') return kNotCanonical;
      i = AfterSeparator(i + 1);
    }
  }

  size_t ObjectEnd(size_t i, int depth) {
    if (depth <= 0) return kNotCanonical;
    ++i;
    if (i < n_ && s_[i] == '}') return i + 1;
    const size_t first_key = keys_->size();
    uint64_t key_bits = 0;
    while (true) {
      if (i >= n_ || s_[i] != '"') return kNotCanonical;
      const size_t key_end = CanonicalStringEnd(s_, i, n_);
      if (key_end == kNotCanonical) return kNotCanonical;
      // Canonical quoting is one-to-one, so equal keys have equal text.
      const size_t key_size = key_end - i;
      const uint64_t bit = KeyBit(s_ + i, key_size);
      if ((key_bits & bit) != 0) {
        for (size_t k = first_key; k < keys_->size(); ++k) {
          const KeySpan& other = (*keys_)[k];
          if (other.size == key_size && std::memcmp(s_ + other.begin, s_ + i, key_size) == 0) {
            return kNotCanonical;  // a duplicate key: the parser collapses it
          }
        }
      }
      key_bits |= bit;
      keys_->push_back(KeySpan{i, key_size});
      i = key_end;
      if (i >= n_ || s_[i] != ':') return kNotCanonical;
      i = ValueEnd(AfterSeparator(i + 1), depth - 1);
      if (i >= n_) return kNotCanonical;
      if (s_[i] == '}') {
        keys_->resize(first_key);
        return i + 1;
      }
      if (s_[i] != ',') return kNotCanonical;
      i = AfterSeparator(i + 1);
    }
  }

  const char* const s_;
  const size_t n_;
  const bool spaced_;
  std::vector<KeySpan>* const keys_;
  std::string* const out_;
  size_t run_ = 0;  // start of what is not yet copied to out_
};

}  // namespace

size_t CanonicalValueEnd(std::string_view text, size_t i, int max_depth,
                         std::vector<KeySpan>* scratch) {
  return CanonicalScanner(text, /*spaced=*/false, scratch, nullptr).ValueEnd(i, max_depth);
}

bool AppendCanonicalIfPlain(std::string_view text, std::string* out) {
  thread_local std::vector<KeySpan> keys;
  const size_t size_before = out->size();
  CanonicalScanner scanner(text, /*spaced=*/true, &keys, out);
  const size_t end = scanner.ValueEnd(0, /*depth=*/32);
  if (keys.capacity() > 4096) std::vector<KeySpan>().swap(keys);
  if (end != text.size()) {
    out->resize(size_before);
    return false;
  }
  scanner.Finish(end);
  return true;
}

std::string_view KindOfCanonical(std::string_view text) {
  if (text.empty()) return "nothing";
  switch (text.front()) {
    case '{':
      return "object";
    case '[':
      return "array";
    case '"':
      return "string";
    case 'n':
      return "null";
    case 't':
    case 'f':
      return "boolean";
    default:
      return "number";
  }
}

size_t NumberTokenEnd(std::string_view text, size_t i) {
  while (i < text.size()) {
    char c = text[i];
    if (c == ',' || c == '}' || c == ']' || c == ':' || c == ' ') break;
    ++i;
  }
  return i;
}

namespace {

// False when canonical/model text certainly holds no NaN / Infinity /
// -Infinity token. Such a token starts a value, so its first letter opens
// the text or follows `:`, `,`, `[` or the `-` of -Infinity; letters
// elsewhere (inside strings) are passed over 16 bytes at a time. A true
// result may come from a string ("a:Nb"): the caller then scans exactly.
bool MayHoldNonFinite(std::string_view text) {
  const char* s = text.data();
  const size_t n = text.size();
  if (n == 0) return false;
  if (s[0] == 'N' || s[0] == 'I') return true;
  size_t i = 1;
#if defined(__SSE2__)
  const __m128i letter_n = _mm_set1_epi8('N');
  const __m128i letter_i = _mm_set1_epi8('I');
  const __m128i colon = _mm_set1_epi8(':');
  const __m128i comma = _mm_set1_epi8(',');
  const __m128i bracket = _mm_set1_epi8('[');
  const __m128i minus = _mm_set1_epi8('-');
  for (; i + 16 <= n; i += 16) {
    __m128i cur = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    __m128i prev = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i - 1));
    __m128i letter = _mm_or_si128(_mm_cmpeq_epi8(cur, letter_n), _mm_cmpeq_epi8(cur, letter_i));
    __m128i opener =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(prev, colon), _mm_cmpeq_epi8(prev, comma)),
                     _mm_or_si128(_mm_cmpeq_epi8(prev, bracket), _mm_cmpeq_epi8(prev, minus)));
    if (_mm_movemask_epi8(_mm_and_si128(letter, opener)) != 0) return true;
  }
#endif
  for (; i < n; ++i) {
    char c = s[i];
    if (c != 'N' && c != 'I') continue;
    char p = s[i - 1];
    if (p == ':' || p == ',' || p == '[' || p == '-') return true;
  }
  return false;
}

}  // namespace

void AppendMeshJson(std::string_view text, std::string* out) {
  if (!MayHoldNonFinite(text)) {
    out->append(text);
    return;
  }
  size_t i = 0;
  size_t run = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '"') {
      ++i;
      while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
      ++i;
    } else if (c == 'N' || c == 'I' || (c == '-' && i + 1 < text.size() && text[i + 1] == 'I')) {
      size_t end = NumberTokenEnd(text, i);
      out->append(text, run, i - run);
      out->append("null");
      i = end;
      run = i;
    } else {
      ++i;
    }
  }
  out->append(text, run, std::min(i, text.size()) - run);
}

}  // namespace teleclaude::mesh::json
