// JSON string literals: see quote.h and doc/wire.md.
#include "common/json/quote.h"

#include <array>
#include <cstring>

#include "common/base/byte_scan.h"
#include "common/base/utf8.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace teleclaude::mesh::json {
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

namespace {

unsigned HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

}  // namespace

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

}  // namespace

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

void AppendQuoted(std::string_view s, std::string* out) {
  AppendQuotedImpl</*kValidate=*/false>(s, out);
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

}  // namespace

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

}  // namespace teleclaude::mesh::json
