// The one byte layout that every signature and MAC of the mesh covers
// (doc/security.md "Signed bytes"):
//
//   domain tag (ASCII, no NUL) || 0x00 ||
//   for each field: its length as 8 bytes big-endian || its bytes
//
// The domain tag names the format and its version ("teleclaude-mesh
// heartbeat v1", ...), so bytes signed for one purpose are never valid for
// another; the length prefixes make the field boundaries unambiguous (no two
// different field lists give the same bytes). Pure functions; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_IDENTITY_TRANSCRIPT_H_
#define TELECLAUDE_MESH_COMMON_IDENTITY_TRANSCRIPT_H_

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace teleclaude::mesh {

// The 8-byte big-endian length that precedes a field.
inline std::array<char, 8> FieldLength(uint64_t n) {
  std::array<char, 8> out;
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(n & 0xff);
    n >>= 8;
  }
  return out;
}

// Feeds the transcript of (domain, fields) to `sink`, a callable taking
// std::string_view, piece by piece (so a MAC can absorb it without a copy).
// REQUIRES: `domain` contains no NUL byte.
template <typename Sink>
void WriteTranscript(std::string_view domain, std::initializer_list<std::string_view> fields,
                     Sink&& sink) {
  sink(domain);
  sink(std::string_view("\0", 1));
  for (std::string_view field : fields) {
    const std::array<char, 8> length = FieldLength(field.size());
    sink(std::string_view(length.data(), length.size()));
    sink(field);
  }
}

// The transcript as one string.
std::string TranscriptBytes(std::string_view domain,
                            std::initializer_list<std::string_view> fields);

// A list of strings as the bytes of one field: each item as its 8-byte
// length and its bytes (so the list's items stay unambiguous too).
std::string TranscriptList(const std::vector<std::string>& items);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_IDENTITY_TRANSCRIPT_H_
