// UTF-8 validation, the one definition every process uses: well-formed
// UTF-8 as Unicode defines it (Table 3-7): no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence.
// Stateless functions; safe from any thread.
#ifndef TELECLAUDE_MESH_COMMON_BASE_UTF8_H_
#define TELECLAUDE_MESH_COMMON_BASE_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/base/byte_scan.h"

namespace teleclaude::mesh {

// Length of the well-formed UTF-8 sequence starting at s[i] (1 for ASCII),
// 0 when the bytes there are not one. REQUIRES: i < n.
inline size_t Utf8SequenceLength(const char* s, size_t i, size_t n) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;  // a continuation byte, an overlong lead (C0, C1) or above F4
  }
  if (i + len > n) return 0;
  for (size_t k = 1; k < len; ++k) {
    const unsigned char d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return len;
}

inline size_t Utf8SequenceLength(std::string_view s, size_t i) {
  return Utf8SequenceLength(s.data(), i, s.size());
}

// Index of the first byte of `s` where no well-formed UTF-8 sequence
// starts (the lead of a bad or truncated sequence, or a stray continuation
// byte), or s.size() when all of `s` is well-formed. ASCII runs are skipped
// 16 bytes at a time.
inline size_t FirstInvalidUtf8(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  size_t i = 0;
  while ((i = byte_scan::SkipAscii(p, i, n)) < n) {
    const size_t len = Utf8SequenceLength(p, i, n);
    if (len == 0) return i;
    i += len;
  }
  return n;
}

// True when all of `s` is well-formed UTF-8.
inline bool IsValidUtf8(std::string_view s) { return FirstInvalidUtf8(s) == s.size(); }

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_BASE_UTF8_H_
