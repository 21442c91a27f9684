// Canonical JSON text: see json_text.h and doc/wire.md.
#include "common/envelope/json_text.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "common/base/byte_scan.h"
#include "common/base/utf8.h"
#include "common/envelope/internal/canonical_writer.h"
#include "common/envelope/internal/cat.h"
#include "rapidjson/error/en.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace teleclaude::mesh::json {
namespace internal {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// 0 = copy as is; otherwise the character after the backslash ('u' = \u00XX).
constexpr std::array<char, 256> MakeEscapeTable() {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}
constexpr std::array<char, 256> kEscape = MakeEscapeTable();

}  // namespace

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

static unsigned HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

// Unescapes the JSON string literal starting at text[i] == '"'; sets i just
// past the closing quote.
std::string UnescapeAt(std::string_view text, size_t& i) {
  std::string out;
  ++i;
  size_t run = i;
  while (i < text.size() && text[i] != '"') {
    if (text[i] != '\\') {
      ++i;
      continue;
    }
    out.append(text, run, i - run);
    if (i + 1 >= text.size()) break;
    char e = text[i + 1];
    i += 2;
    switch (e) {
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        if (i + 4 > text.size()) break;
        uint32_t cp = 0;
        for (int k = 0; k < 4; ++k) cp = (cp << 4) | HexValue(text[i + k]);
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= text.size() && text[i] == '\\' &&
            text[i + 1] == 'u') {
          uint32_t lo = 0;
          for (int k = 0; k < 4; ++k) lo = (lo << 4) | HexValue(text[i + 2 + k]);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        AppendUtf8(cp, &out);
        break;
      }
      default:
        out.push_back(e);
        break;
    }
    run = i;
  }
  out.append(text, run, i - run);
  if (i < text.size()) ++i;  // closing quote
  return out;
}

// Index just past the value starting at text[i] (canonical/compact text).
static size_t SkipString(std::string_view text, size_t i) {
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

using byte_scan::BytesEqual;
using byte_scan::kHigh;
using byte_scan::kLow7;
using byte_scan::Repeat;

// 0x80 in every byte that canonical quoting does not copy as is or that is
// not ASCII: < 0x20, '"', '\\', >= 0x80.
inline uint64_t SpecialBytes(uint64_t x) {
  uint64_t below_space = ~((x & kLow7) + Repeat(0x80 - 0x20)) & kHigh;  // low 7 bits < 0x20
  return (x & kHigh) | below_space | BytesEqual(x, '"') | BytesEqual(x, '\\');
}
inline bool IsSpecial(unsigned char c) { return c < 0x20 || c >= 0x80 || c == '"' || c == '\\'; }

#if defined(__SSE2__)
// 16-byte version of SpecialBytes, as movemask bits.
inline int Special16(__m128i v) {
  // Signed compare: bytes >= 0x80 are negative, so they count as < 0x20.
  __m128i special = _mm_or_si128(
      _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
  return _mm_movemask_epi8(special);
}
#endif

// Index of the first byte in s[i, n) that canonical quoting does not copy
// as is or that is not ASCII (< 0x20, '"', '\\', >= 0x80), or n.
inline size_t SkipPlain(const char* s, size_t i, size_t n) {
#if defined(__SSE2__)
  return byte_scan::Scan<Special16, SpecialBytes, IsSpecial>(s, i, n);
#else
  return byte_scan::ScanWords<SpecialBytes, IsSpecial>(s, i, n);
#endif
}

}  // namespace

namespace {

// Canonical quoting in one pass over `s`: runs that need no escape are
// copied whole. With kValidate, returns false at the first byte sequence
// that is not valid UTF-8 (`out` then holds a partial literal).
template <bool kValidate>
bool AppendQuotedImpl(std::string_view s, std::string* out) {
  const char* p = s.data();
  const size_t n = s.size();
  size_t i = SkipPlain(p, 0, n);
  if (i == n) {  // plain ASCII, the common case: one append
    const size_t at = out->size();
    out->append(n + 2, '"');
    std::memcpy(out->data() + at + 1, p, n);
    return true;
  }
  out->push_back('"');
  size_t run = 0;
  do {
    unsigned char c = static_cast<unsigned char>(p[i]);
    if (c >= 0x80) {
      if constexpr (kValidate) {
        size_t len = Utf8SequenceLength(p, i, n);
        if (len == 0) return false;
        i += len;
      } else {
        ++i;
      }
      continue;
    }
    out->append(p + run, i - run);
    const char e = kEscape[c];
    const char escaped[6] = {'\\', e, '0', '0', kHex[c >> 4], kHex[c & 15]};
    out->append(escaped, e == 'u' ? 6 : 2);
    run = ++i;
  } while ((i = SkipPlain(p, i, n)) < n);
  out->append(p + run, n - run);
  out->push_back('"');
  return true;
}

}  // namespace

bool AppendQuotedUtf8(std::string_view s, std::string* out) {
  return AppendQuotedImpl</*kValidate=*/true>(s, out);
}

// ---------------------------------------------------------------------------
// Recognizing canonical text without rewriting it.

namespace {

constexpr size_t kNotCanonical = std::string_view::npos;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The escapes canonical quoting writes: the short forms and \u00XX (lower
// case) for the other characters below 0x20. Returns the escape's length at
// s[i] == '\\', 0 for any other escape (valid JSON or not).
size_t CanonicalEscapeLength(const char* s, size_t i, size_t n) {
  if (i + 1 >= n) return 0;
  switch (s[i + 1]) {
    case '"':
    case '\\':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
      return 2;
    case 'u':
      break;
    default:
      return 0;
  }
  if (i + 6 > n || s[i + 2] != '0' || s[i + 3] != '0') return 0;
  const char high = s[i + 4];
  const char low = s[i + 5];
  if (high != '0' && high != '1') return 0;
  unsigned value = (high - '0') * 16;
  if (IsDigit(low)) {
    value += low - '0';
  } else if (low >= 'a' && low <= 'f') {
    value += low - 'a' + 10;
  } else {
    return 0;
  }
  return kEscape[value] == 'u' ? 6 : 0;  // no short form for it
}

size_t CanonicalStringEnd(const char* s, size_t i, size_t n) {
  ++i;  // the opening quote
  while ((i = SkipPlain(s, i, n)) < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"') return i + 1;
    size_t len = c >= 0x80   ? Utf8SequenceLength(s, i, n)
                 : c == '\\' ? CanonicalEscapeLength(s, i, n)
                             : 0;
    if (len == 0) return kNotCanonical;  // invalid UTF-8, raw control character, other escape
    i += len;
  }
  return kNotCanonical;  // unterminated
}

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

// A one-bit filter over the length and edge characters of a quoted key (the
// duplicate-key filter of CanonicalWriter::Key and of the canonical scan).
uint64_t KeyBit(const char* key, size_t size) {
  uint64_t h = size;
  h = h * 131 + static_cast<unsigned char>(key[1]);
  h = h * 131 + static_cast<unsigned char>(key[size - 2]);
  return uint64_t{1} << ((h * 0x9E3779B97F4A7C15ULL) >> 58);
}

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

size_t PlainStringClose(std::string_view text, size_t i) {
  const char* s = text.data();
  const size_t n = text.size();
  ++i;  // the opening quote
  while ((i = SkipPlain(s, i, n)) < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"') return i;
    if (c < 0x80) return kNotCanonical;  // an escape or a raw control character
    const size_t len = Utf8SequenceLength(s, i, n);
    if (len == 0) return kNotCanonical;
    i += len;
  }
  return kNotCanonical;  // unterminated
}

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

NumberKind ClassifyNumber(std::string_view raw) {
  if (raw.empty()) return NumberKind::kInvalid;
  bool is_float = false;
  for (char c : raw) {
    switch (c) {
      case '.':
      case 'e':
      case 'E':
        is_float = true;
        break;
      case 'N':
      case 'I':
      case 'a':
      case 'n':
      case 'f':
      case 'i':
      case 't':
      case 'y':
        if (raw == "NaN") return NumberKind::kNaN;
        if (raw == "Infinity") return NumberKind::kPosInf;
        if (raw == "-Infinity") return NumberKind::kNegInf;
        return NumberKind::kInvalid;
      default:
        break;
    }
  }
  return is_float ? NumberKind::kFloat : NumberKind::kInteger;
}

double ParseDouble(std::string_view raw) {
  double value = 0;
  const char* begin = raw.data();
  const char* end = raw.data() + raw.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec == std::errc()) return value;
  if (ec == std::errc::result_out_of_range) {
    // Overflow or underflow: decide from the decimal exponent of the text.
    bool negative = raw.front() == '-';
    size_t i = negative ? 1 : 0;
    long long int_digits = 0;  // significant digits before the point
    bool seen_nonzero = false;
    long long leading_frac_zeros = 0;
    bool in_frac = false;
    long long exp = 0;
    for (; i < raw.size(); ++i) {
      char c = raw[i];
      if (c == '.') {
        in_frac = true;
      } else if (c == 'e' || c == 'E') {
        std::string_view e = raw.substr(i + 1);
        bool neg_exp = false;
        if (!e.empty() && (e.front() == '+' || e.front() == '-')) {
          neg_exp = e.front() == '-';
          e.remove_prefix(1);
        }
        for (char d : e) {
          if (exp < 1000000000LL) exp = exp * 10 + (d - '0');
        }
        if (neg_exp) exp = -exp;
        break;
      } else if (!in_frac) {
        if (c != '0' || seen_nonzero) {
          seen_nonzero = true;
          ++int_digits;
        }
      } else if (!seen_nonzero) {
        if (c == '0') {
          ++leading_frac_zeros;
        } else {
          seen_nonzero = true;
        }
      }
    }
    long long magnitude = int_digits > 0 ? int_digits + exp : exp - leading_frac_zeros;
    double r = magnitude > 0 ? std::numeric_limits<double>::infinity() : 0.0;
    return negative ? -r : r;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

namespace {

// Shortest round-trip digits of a finite, non-zero |value|: value =
// 0.d1d2..dn * 10^(exp10 + 1), i.e. d1.d2..dn * 10^exp10.
struct Decimal {
  char digits[32];
  int n = 0;
  int exp10 = 0;
};

Decimal ToDecimal(double value) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), std::fabs(value), std::chars_format::scientific);
  Decimal d;
  const char* p = buf;
  for (; p < res.ptr && *p != 'e'; ++p) {
    if (*p != '.') d.digits[d.n++] = *p;
  }
  int exp = 0;
  bool neg = false;
  ++p;  // 'e'
  if (p < res.ptr && (*p == '+' || *p == '-')) {
    neg = *p == '-';
    ++p;
  }
  for (; p < res.ptr; ++p) exp = exp * 10 + (*p - '0');
  d.exp10 = neg ? -exp : exp;
  // Drop trailing zeros (to_chars never writes them, but be safe).
  while (d.n > 1 && d.digits[d.n - 1] == '0') --d.n;
  return d;
}

// Lays out digits: plain when lo <= exp10 < 16, exponent form otherwise.
void AppendFinite(double value, int lo, bool pad_exponent, std::string* out) {
  if (std::signbit(value)) out->push_back('-');
  if (value == 0) {
    out->append("0.0");
    return;
  }
  Decimal d = ToDecimal(value);
  if (d.exp10 >= lo && d.exp10 < 16) {
    if (d.exp10 >= 0) {
      int int_len = d.exp10 + 1;
      if (d.n <= int_len) {
        out->append(d.digits, d.n);
        out->append(static_cast<size_t>(int_len - d.n), '0');
        out->append(".0");
      } else {
        out->append(d.digits, int_len);
        out->push_back('.');
        out->append(d.digits + int_len, d.n - int_len);
      }
    } else {
      out->append("0.");
      out->append(static_cast<size_t>(-d.exp10 - 1), '0');
      out->append(d.digits, d.n);
    }
    return;
  }
  out->push_back(d.digits[0]);
  if (d.n > 1) {
    out->push_back('.');
    out->append(d.digits + 1, d.n - 1);
  }
  out->push_back('e');
  int e = d.exp10;
  out->push_back(e < 0 ? '-' : '+');
  if (e < 0) e = -e;
  if (pad_exponent && e < 10) out->push_back('0');
  char buf[8];
  auto res = std::to_chars(buf, buf + sizeof(buf), e);
  out->append(buf, res.ptr);
}

void AppendNonFinite(double value, std::string* out) {
  if (std::isnan(value)) {
    out->append("NaN");
  } else {
    out->append(value < 0 ? "-Infinity" : "Infinity");
  }
}

}  // namespace

void AppendDoubleMesh(double value, std::string* out) {
  if (!std::isfinite(value)) return AppendNonFinite(value, out);
  AppendFinite(value, -5, /*pad_exponent=*/false, out);
}

void AppendDoublePython(double value, std::string* out) {
  if (!std::isfinite(value)) return AppendNonFinite(value, out);
  AppendFinite(value, -4, /*pad_exponent=*/true, out);
}

size_t PlainDecimalLength(std::string_view raw) {
  if (raw.empty()) return 0;
  const char* p = raw.data();
  const char* end = p + raw.size();
  const char* int_begin = *p == '-' ? p + 1 : p;
  const char* dot = int_begin;
  while (dot < end && *dot >= '0' && *dot <= '9') ++dot;
  if (dot == int_begin || dot == end || *dot != '.' || dot + 1 == end) return 0;
  if (*int_begin == '0' && dot - int_begin > 1) return 0;  // not JSON
  const char* frac_end = dot + 1;
  while (frac_end < end && *frac_end >= '0' && *frac_end <= '9') ++frac_end;
  if (frac_end != end) return 0;  // exponent or junk
  // Significant digits: from the first non-zero digit to the last one.
  const char* first = nullptr;
  const char* last = nullptr;
  for (const char* c = int_begin; c < end; ++c) {
    if (*c == '.' || *c == '0') continue;
    if (first == nullptr) first = c;
    last = c;
  }
  if (first != nullptr) {
    int significant = static_cast<int>(last - first) + 1 - (first < dot && last > dot ? 1 : 0);
    if (significant > 15) return 0;
    int exp10 = first < dot ? static_cast<int>(dot - first) - 1 : -static_cast<int>(first - dot);
    if (exp10 < -5 || exp10 >= 16) return 0;
  }
  const char* kept_end = frac_end;  // the fraction without trailing zeros
  while (kept_end > dot + 2 && kept_end[-1] == '0') --kept_end;
  return static_cast<size_t>(kept_end - p);
}

bool AppendCanonicalNumber(std::string_view raw, NonFinite non_finite, std::string* out,
                           std::string* error) {
  switch (ClassifyNumber(raw)) {
    case NumberKind::kInteger:
      if (raw == "-0") {
        out->push_back('0');
      } else {
        out->append(raw);
      }
      return true;
    case NumberKind::kFloat: {
      if (size_t plain = PlainDecimalLength(raw); plain != 0) {
        out->append(raw.data(), plain);
        return true;
      }
      double v = ParseDouble(raw);
      if (!std::isfinite(v) && non_finite == NonFinite::kNull) {
        out->append("null");
      } else {
        AppendDoubleMesh(v, out);
      }
      return true;
    }
    case NumberKind::kNaN:
    case NumberKind::kPosInf:
    case NumberKind::kNegInf:
      if (non_finite == NonFinite::kNull) {
        out->append("null");
      } else {
        out->append(raw);
      }
      return true;
    case NumberKind::kInvalid:
      break;
  }
  *error = Cat("invalid number '", raw.substr(0, 40),
               "' (only NaN, Infinity and -Infinity are allowed "
               "besides JSON numbers)");
  return false;
}

// ---------------------------------------------------------------------------
// CanonicalWriter

bool CanonicalWriter::Unexpected() {
  error_ = "internal error: unexpected number event";
  return false;
}

void CanonicalWriter::BeforeValue() {
  if (depth_ == 0) return;
  Frame& f = frames_[depth_ - 1];
  if (f.is_object) return;  // the key wrote the separator
  if (!f.first) out_->push_back(',');
  f.first = false;
}

bool CanonicalWriter::Null() {
  BeforeValue();
  out_->append("null");
  return true;
}

bool CanonicalWriter::Bool(bool b) {
  BeforeValue();
  out_->append(b ? "true" : "false");
  return true;
}

bool CanonicalWriter::RawNumber(const char* str, rapidjson::SizeType length, bool) {
  BeforeValue();
  return AppendCanonicalNumber(std::string_view(str, length), non_finite_, out_, &error_);
}

bool CanonicalWriter::String(const char* str, rapidjson::SizeType length, bool) {
  BeforeValue();
  if (!AppendQuotedUtf8(std::string_view(str, length), out_)) {
    error_ = kBadString;
    return false;
  }
  return true;
}

bool CanonicalWriter::Enter(bool is_object) {
  if (depth_ >= max_depth_) {
    error_ = Cat("nesting deeper than ", kMaxDepth, " levels");
    return false;
  }
  BeforeValue();
  if (static_cast<size_t>(depth_) == frames_.size()) frames_.emplace_back();
  Frame& f = frames_[depth_++];
  f.is_object = is_object;
  f.first = true;
  f.has_duplicates = false;
  f.key_bits = 0;
  f.start = out_->size();
  f.members.clear();
  f.key_set.reset();
  out_->push_back(is_object ? '{' : '[');
  return true;
}

bool CanonicalWriter::StartObject() { return Enter(true); }
bool CanonicalWriter::StartArray() { return Enter(false); }

bool CanonicalWriter::Key(const char* str, rapidjson::SizeType length, bool) {
  Frame& f = frames_[depth_ - 1];
  if (!f.members.empty()) f.members.back().end = out_->size();
  if (!f.first) out_->push_back(',');
  f.first = false;
  size_t begin = out_->size();
  if (!AppendQuotedUtf8(std::string_view(str, length), out_)) {
    error_ = kBadString;
    return false;
  }
  size_t key_end = out_->size();
  out_->push_back(':');
  std::string_view key(out_->data() + begin, key_end - begin);
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
              std::memcmp(out_->data() + m.begin, key.data(), key.size()) == 0) {
            f.has_duplicates = true;
            break;
          }
        }
      }
      f.key_bits |= bit;
      if (!f.has_duplicates && f.members.size() >= 16) {
        f.key_set = std::make_unique<std::unordered_set<std::string>>();
        for (const Member& m : f.members) {
          f.key_set->emplace(out_->data() + m.begin, m.key_end - m.begin);
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
  const std::string& src = *out_;
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
  out_->resize(f.start);
  out_->append(rebuilt);
}

bool CanonicalWriter::EndObject(rapidjson::SizeType) {
  Frame& f = frames_[depth_ - 1];
  if (!f.members.empty()) f.members.back().end = out_->size();
  if (f.has_duplicates) CollapseDuplicates(f);
  out_->push_back('}');
  --depth_;
  return true;
}

bool CanonicalWriter::EndArray(rapidjson::SizeType) {
  out_->push_back(']');
  --depth_;
  return true;
}

char* InsituBuffer(std::string_view text) {
  thread_local std::vector<char> buffer;
  buffer.resize(text.size() + 32);
  std::memcpy(buffer.data(), text.data(), text.size());
  std::memset(buffer.data() + text.size(), 0, 32);
  return buffer.data();
}

std::string PatchBigNumbers(std::string_view text, std::vector<NumberPatch>* patches) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '"') {
      size_t start = i++;
      while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
      i = std::min(i + 1, text.size());
      out.append(text, start, i - start);
      continue;
    }
    if (c != '-' && (c < '0' || c > '9')) {
      out.push_back(c);
      ++i;
      continue;
    }
    size_t start = i;
    size_t exp_at = std::string_view::npos;
    while (i < text.size()) {
      char d = text[i];
      if (d == 'e' || d == 'E') {
        exp_at = i;
      } else if (!(d == '-' || d == '+' || d == '.' || (d >= '0' && d <= '9'))) {
        break;
      }
      ++i;
    }
    std::string_view token = text.substr(start, i - start);
    bool big = token.size() > 300;
    if (!big && exp_at != std::string_view::npos) {
      size_t digits = 0;
      for (size_t k = exp_at + 1; k < i; ++k) {
        if (text[k] >= '0' && text[k] <= '9' && (digits > 0 || text[k] != '0')) {
          ++digits;
        }
      }
      big = digits >= 3;
    }
    if (big) {
      out.append("Inf");
      patches->push_back(NumberPatch{out.size(), std::string(token)});
    } else {
      out.append(token);
    }
  }
  return out;
}

absl::Status ParseError(std::string_view what, int code, size_t offset,
                        const std::string* handler_error) {
  std::string reason;
  if (code == rapidjson::kParseErrorTermination && handler_error != nullptr &&
      !handler_error->empty()) {
    reason = *handler_error;
  } else {
    reason = rapidjson::GetParseError_En(static_cast<rapidjson::ParseErrorCode>(code));
    if (!reason.empty() && reason.back() == '.') reason.pop_back();
  }
  return absl::InvalidArgumentError(Cat(what, ": not valid JSON: ", reason, " at offset ", offset));
}

}  // namespace internal

// ---------------------------------------------------------------------------
// Public functions.

using internal::AppendUtf8;
using internal::Cat;
using internal::kEscape;
using internal::kHex;
using internal::SkipValue;
using internal::ToStd;
using internal::UnescapeAt;

void AppendQuoted(std::string_view s, std::string* out) {
  internal::AppendQuotedImpl</*kValidate=*/false>(s, out);
}

std::string Quote(std::string_view utf8) {
  std::string out;
  AppendQuoted(utf8, &out);
  return out;
}

namespace {

void AppendU16(unsigned v, std::string* out) {
  out->append("\\u");
  out->push_back(kHex[(v >> 12) & 15]);
  out->push_back(kHex[(v >> 8) & 15]);
  out->push_back(kHex[(v >> 4) & 15]);
  out->push_back(kHex[v & 15]);
}

// Decodes one UTF-8 sequence at s[i] (valid UTF-8 assumed; a broken byte is
// returned as itself). Advances i.
uint32_t DecodeUtf8(std::string_view s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  if (c < 0xC0 || i + len > s.size()) {
    ++i;
    return c;
  }
  uint32_t cp = len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k < len; ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  }
  i += len;
  return cp;
}

bool IsNumberStart(char c) { return c == '-' || (c >= '0' && c <= '9') || c == 'N' || c == 'I'; }

// Scans a number/NaN/Infinity token starting at text[i].
size_t NumberEnd(std::string_view text, size_t i) {
  while (i < text.size()) {
    char c = text[i];
    if (c == ',' || c == '}' || c == ']' || c == ':' || c == ' ') break;
    ++i;
  }
  return i;
}

}  // namespace

void AppendPythonQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      size_t run = i;
      while (i < s.size()) {
        unsigned char d = static_cast<unsigned char>(s[i]);
        if (d < 0x20 || d >= 0x7F || d == '"' || d == '\\') break;
        ++i;
      }
      out->append(s, run, i - run);
      continue;
    }
    if (c < 0x80) {
      char e = kEscape[c];
      if (e != 0 && e != 'u') {
        out->push_back('\\');
        out->push_back(e);
      } else {
        AppendU16(c, out);
      }
      ++i;
      continue;
    }
    uint32_t cp = DecodeUtf8(s, i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      AppendU16(0xD800 + (cp >> 10), out);
      AppendU16(0xDC00 + (cp & 0x3FF), out);
    } else {
      AppendU16(cp, out);
    }
  }
  out->push_back('"');
}

std::string FormatDoubleMesh(double value) {
  std::string out;
  internal::AppendDoubleMesh(value, &out);
  return out;
}

std::string FormatDoublePython(double value) {
  std::string out;
  internal::AppendDoublePython(value, &out);
  return out;
}

absl::StatusOr<std::string> Canonicalize(std::string_view any_json, NonFinite non_finite) {
  std::string out;
  out.reserve(any_json.size());
  // Text that is canonical already, or only spaced as json.dumps spaces it
  // (local stream entries), needs no parser: it is checked and copied.
  if (internal::AppendCanonicalIfPlain(any_json, &out)) return out;
  return internal::CanonicalizeWithParser(any_json, non_finite);
}

namespace internal {
absl::StatusOr<std::string> CanonicalizeWithParser(std::string_view any_json,
                                                   NonFinite non_finite) {
  std::string out;
  out.reserve(any_json.size());
  // One writer per thread and mode, reused: its frames keep their capacity.
  // One grown by a big text is replaced, so a thread does not keep that memory.
  thread_local internal::CanonicalWriter writers[2] = {internal::CanonicalWriter(NonFinite::kNull),
                                                       internal::CanonicalWriter(NonFinite::kKeep)};
  internal::CanonicalWriter& writer = writers[non_finite == NonFinite::kKeep ? 1 : 0];
  writer.Reset(&out);
  absl::Status st = internal::ParseJson(any_json, writer, "(root)", &writer.error(), [&] {
    out.clear();
    writer.Reset(&out);
  });
  if (any_json.size() >= (64 << 10)) writer = internal::CanonicalWriter(non_finite);
  if (!st.ok()) {
    // Drop the "(root): " prefix: callers add their own context.
    return absl::InvalidArgumentError(st.message().substr(8));
  }
  return out;
}
}  // namespace internal

namespace internal {
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
}  // namespace internal
using internal::KindOfCanonical;

absl::StatusOr<std::string> CanonicalizeObject(std::string_view any_json,
                                               std::string_view field_name, NonFinite non_finite) {
  absl::StatusOr<std::string> c = Canonicalize(any_json, non_finite);
  if (!c.ok()) {
    return absl::InvalidArgumentError(Cat(field_name, ": ", ToStd(c.status().message())));
  }
  if (c->empty() || c->front() != '{') {
    return absl::InvalidArgumentError(
        Cat(field_name, ": expected a JSON object, got ", KindOfCanonical(*c)));
  }
  return c;
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
      size_t end = NumberEnd(text, i);
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

void AppendPythonJson(std::string_view text, std::string* out) {
  // reserve() allocates exactly what is asked: only grow, geometrically.
  if (out->capacity() < out->size() + text.size() + text.size() / 8) {
    out->reserve(std::max(2 * out->capacity(), out->size() + text.size() + text.size() / 8));
  }
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    switch (c) {
      case '"': {
        std::string s = UnescapeAt(text, i);
        AppendPythonQuoted(s, out);
        break;
      }
      case ',':
        out->append(", ");
        ++i;
        break;
      case ':':
        out->append(": ");
        ++i;
        break;
      case '{':
      case '}':
      case '[':
      case ']':
        out->push_back(c);
        ++i;
        break;
      case 't':
        out->append("true");
        i += 4;
        break;
      case 'f':
        out->append("false");
        i += 5;
        break;
      case 'n':
        out->append("null");
        i += 4;
        break;
      default: {
        if (!IsNumberStart(c)) {  // stray whitespace etc.: not canonical
          ++i;
          break;
        }
        size_t end = NumberEnd(text, i);
        std::string_view num = text.substr(i, end - i);
        switch (internal::ClassifyNumber(num)) {
          case internal::NumberKind::kFloat:
            internal::AppendDoublePython(internal::ParseDouble(num), out);
            break;
          default:
            out->append(num);
            break;
        }
        i = end;
        break;
      }
    }
  }
}

std::string ToPythonJson(std::string_view canonical) {
  std::string out;
  AppendPythonJson(canonical, &out);
  return out;
}

std::optional<std::string> GetMember(std::string_view object_json, std::string_view key) {
  absl::StatusOr<std::string> c = Canonicalize(object_json, NonFinite::kKeep);
  if (!c.ok()) return std::nullopt;
  std::optional<std::string> found;
  internal::ForEachMember(*c, [&](const std::string& k, std::string_view v) {
    if (k == key) found = std::string(v);
  });
  return found;
}

std::optional<std::string> GetMemberString(std::string_view object_json, std::string_view key) {
  std::optional<std::string> v = GetMember(object_json, key);
  if (!v.has_value() || v->empty() || v->front() != '"') return std::nullopt;
  size_t i = 0;
  return UnescapeAt(*v, i);
}

absl::StatusOr<std::string> SetMember(std::string_view object_json, std::string_view key,
                                      std::string_view value_json) {
  absl::StatusOr<std::string> obj = CanonicalizeObject(object_json, "object", NonFinite::kKeep);
  if (!obj.ok()) return obj.status();
  absl::StatusOr<std::string> value = Canonicalize(value_json, NonFinite::kKeep);
  if (!value.ok()) {
    return absl::InvalidArgumentError(Cat("value: ", value.status().message()));
  }
  // Canonical text has no duplicate keys and quotes a key one way only, so
  // the member is found by comparing quoted text, without unescaping.
  const std::string quoted_key = Quote(key);
  const std::string_view text = *obj;
  size_t i = 1;
  while (i < text.size() && text[i] == '"') {
    const size_t key_end = SkipValue(text, i);
    const size_t value_begin = key_end + 1;  // past ':'
    const size_t value_end = SkipValue(text, value_begin);
    if (text.substr(i, key_end - i) == quoted_key) {
      std::string out;
      out.reserve(text.size() - (value_end - value_begin) + value->size());
      out.append(text, 0, value_begin);
      out.append(*value);
      out.append(text, value_end, std::string_view::npos);
      return out;
    }
    i = value_end;
    if (i < text.size() && text[i] == ',') ++i;
  }
  std::string out;
  out.reserve(text.size() + quoted_key.size() + value->size() + 2);
  out.append(text, 0, text.size() - 1);  // without the closing brace
  if (text.size() > 2) out.push_back(',');
  out.append(quoted_key);
  out.push_back(':');
  out.append(*value);
  out.push_back('}');
  return out;
}

namespace {

bool IsPrintableForRepr(uint32_t cp) {
  // Approximation of str.isprintable(): control characters, the C1 block,
  // line/paragraph separators, soft hyphen and unassigned private ranges are
  // escaped; everything else is printed as is.
  if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return false;
  if (cp == 0xAD || cp == 0x2028 || cp == 0x2029) return false;
  if (cp >= 0x200B && cp <= 0x200F) return false;
  if (cp >= 0x202A && cp <= 0x202E) return false;
  if (cp >= 0x2060 && cp <= 0x2064) return false;
  if (cp == 0xFEFF) return false;
  if (cp >= 0xE000 && cp <= 0xF8FF) return false;
  if (cp >= 0xFFF9 && cp <= 0xFFFB) return false;
  if (cp == 0xFFFE || cp == 0xFFFF) return false;
  return true;
}

void AppendPythonRepr(std::string_view s, std::string* out) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  out->push_back(quote);
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      if (c == '\\') {
        out->append("\\\\");
      } else if (c == static_cast<unsigned char>(quote)) {
        out->push_back('\\');
        out->push_back(static_cast<char>(c));
      } else if (c == '\n') {
        out->append("\\n");
      } else if (c == '\r') {
        out->append("\\r");
      } else if (c == '\t') {
        out->append("\\t");
      } else if (c < 0x20 || c == 0x7F) {
        out->append("\\x");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
      } else {
        out->push_back(static_cast<char>(c));
      }
      continue;
    }
    size_t start = i;
    uint32_t cp = DecodeUtf8(s, i);
    if (IsPrintableForRepr(cp)) {
      out->append(s, start, i - start);
    } else if (cp < 0x100) {
      out->append("\\x");
      out->push_back(kHex[cp >> 4]);
      out->push_back(kHex[cp & 15]);
    } else if (cp < 0x10000) {
      out->append("\\u");
      for (int shift = 12; shift >= 0; shift -= 4) {
        out->push_back(kHex[(cp >> shift) & 15]);
      }
    } else {
      out->append("\\U");
      for (int shift = 28; shift >= 0; shift -= 4) {
        out->push_back(kHex[(cp >> shift) & 15]);
      }
    }
  }
  out->push_back(quote);
}

void AppendPythonNumberStr(std::string_view num, std::string* out) {
  switch (internal::ClassifyNumber(num)) {
    case internal::NumberKind::kFloat: {
      double v = internal::ParseDouble(num);
      if (std::isnan(v)) {
        out->append("nan");
      } else if (std::isinf(v)) {
        out->append(v < 0 ? "-inf" : "inf");
      } else {
        internal::AppendDoublePython(v, out);
      }
      break;
    }
    case internal::NumberKind::kNaN:
      out->append("nan");
      break;
    case internal::NumberKind::kPosInf:
      out->append("inf");
      break;
    case internal::NumberKind::kNegInf:
      out->append("-inf");
      break;
    default:
      out->append(num);
      break;
  }
}

// Python repr of the canonical value at text[i]; advances i.
void AppendReprAt(std::string_view text, size_t& i, std::string* out) {
  if (i >= text.size()) return;
  char c = text[i];
  switch (c) {
    case '"': {
      std::string s = UnescapeAt(text, i);
      AppendPythonRepr(s, out);
      return;
    }
    case '{':
    case '[': {
      char close = c == '{' ? '}' : ']';
      out->push_back(c);
      ++i;
      bool first = true;
      while (i < text.size() && text[i] != close) {
        if (!first) out->append(", ");
        first = false;
        AppendReprAt(text, i, out);
        if (c == '{' && i < text.size() && text[i] == ':') {
          out->append(": ");
          ++i;
          AppendReprAt(text, i, out);
        }
        if (i < text.size() && text[i] == ',') ++i;
      }
      out->push_back(close);
      if (i < text.size()) ++i;
      return;
    }
    case 't':
      out->append("True");
      i += 4;
      return;
    case 'f':
      out->append("False");
      i += 5;
      return;
    case 'n':
      out->append("None");
      i += 4;
      return;
    default: {
      size_t end = NumberEnd(text, i);
      if (end == i) end = i + 1;  // not canonical: make progress
      AppendPythonNumberStr(text.substr(i, end - i), out);
      i = end;
      return;
    }
  }
}

}  // namespace

std::string PythonStr(std::string_view canonical_value) {
  absl::StatusOr<std::string> c = Canonicalize(canonical_value, NonFinite::kKeep);
  if (!c.ok()) return std::string(canonical_value);
  std::string out;
  if (!c->empty() && c->front() == '"') {
    size_t i = 0;
    return UnescapeAt(*c, i);
  }
  size_t i = 0;
  AppendReprAt(*c, i, &out);
  return out;
}

}  // namespace teleclaude::mesh::json
