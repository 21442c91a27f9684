// Finding the first byte of a kind in a text, 16 bytes at a time (SSE2,
// which every x86-64 has), then 8 at a time (SWAR), for scanners that skip
// long runs of plain bytes (UTF-8 validation, JSON quoting).
#ifndef TELECLAUDE_MESH_COMMON_BASE_BYTE_SCAN_H_
#define TELECLAUDE_MESH_COMMON_BASE_BYTE_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace teleclaude::mesh::byte_scan {

// A shorter tail than a block is read by one load that ends at the end of
// the text, with the bytes before the scan's start masked off, so only texts
// under 8 bytes are scanned byte by byte.

// Bytes as a little-endian word: byte k of the text is bits 8k..8k+7.
inline uint64_t Load8(const char* p) {
  uint64_t word;
  std::memcpy(&word, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  word = __builtin_bswap64(word);
#endif
  return word;
}

constexpr uint64_t kLow7 = 0x7F7F7F7F7F7F7F7FULL;
constexpr uint64_t kHigh = 0x8080808080808080ULL;
constexpr uint64_t Repeat(unsigned char c) { return 0x0101010101010101ULL * c; }

// 0x80 in every byte of `x` equal to `c`, exactly (no borrow between bytes).
inline uint64_t BytesEqual(uint64_t x, unsigned char c) {
  uint64_t y = x ^ Repeat(c);
  return ~(((y & kLow7) + kLow7) | y) & kHigh;
}

// 0x80 in every byte >= 0x80.
inline uint64_t NonAsciiBytes(uint64_t x) { return x & kHigh; }
inline bool IsNonAscii(unsigned char c) { return c >= 0x80; }

inline size_t FirstFlagged(uint64_t mask) { return static_cast<size_t>(__builtin_ctzll(mask)) / 8; }

// Index of the first byte of s[i, n) that Word/Byte flag, or n. Word
// returns 0x80 in each flagged byte of a word, Byte flags one byte.
// REQUIRES: i <= n.
template <uint64_t (*Word)(uint64_t), bool (*Byte)(unsigned char)>
inline size_t ScanWords(const char* s, size_t i, size_t n) {
  for (; i + 8 <= n; i += 8) {
    uint64_t mask = Word(Load8(s + i));
    if (mask != 0) return i + FirstFlagged(mask);
  }
  if (i == n) return n;
  if (n >= 8) {
    const size_t rest = n - i;  // 1..7 bytes, the last of an 8-byte load
    uint64_t mask = Word(Load8(s + n - 8)) >> (8 * (8 - rest));
    return mask != 0 ? i + FirstFlagged(mask) : n;
  }
  for (; i < n; ++i) {
    if (Byte(static_cast<unsigned char>(s[i]))) return i;
  }
  return n;
}

#if defined(__SSE2__)
// 16-byte version of NonAsciiBytes, as movemask bits.
inline int NonAscii16(__m128i v) { return _mm_movemask_epi8(v); }

// ScanWords with 16-byte blocks first: Block returns the movemask bits of
// the flagged bytes of a block. REQUIRES: i <= n.
template <int (*Block)(__m128i), uint64_t (*Word)(uint64_t), bool (*Byte)(unsigned char)>
inline size_t Scan(const char* s, size_t i, size_t n) {
  if (n - i < 16) return ScanWords<Word, Byte>(s, i, n);
  for (; i + 16 <= n; i += 16) {
    int mask = Block(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i)));
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
  }
  if (i == n) return n;
  const size_t rest = n - i;  // 1..15 bytes, the last of a 16-byte load
  int mask = Block(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + n - 16))) >> (16 - rest);
  return mask != 0 ? i + static_cast<size_t>(__builtin_ctz(mask)) : n;
}
#endif

// Index of the first byte >= 0x80 in s[i, n), or n. REQUIRES: i <= n.
inline size_t SkipAscii(const char* s, size_t i, size_t n) {
#if defined(__SSE2__)
  return Scan<NonAscii16, NonAsciiBytes, IsNonAscii>(s, i, n);
#else
  return ScanWords<NonAsciiBytes, IsNonAscii>(s, i, n);
#endif
}

}  // namespace teleclaude::mesh::byte_scan

#endif  // TELECLAUDE_MESH_COMMON_BASE_BYTE_SCAN_H_
