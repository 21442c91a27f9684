// Bytes from the outside world quoted for a one-line error message.
// Stateless; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_BASE_SHOW_BYTES_H_
#define TELECLAUDE_MESH_COMMON_BASE_SHOW_BYTES_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "common/base/utf8.h"

namespace teleclaude::mesh {

// `text` in double quotes, cut to `max` bytes (then "..." follows), every
// byte outside printable ASCII, '"' and '\' written as \xNN: the result is
// one line of ASCII whatever the input.
inline std::string ShowBytes(std::string_view text, size_t max = 40) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  out.push_back('"');
  if (text.size() > max) out += "...";
  return out;
}

// `text` with every byte that is a control character (below 0x20, or DEL)
// or not part of well-formed UTF-8 written as \xNN, the rest kept: one line
// of valid UTF-8 whatever the input (for messages that quote input, e.g.
// ValidateName's).
inline std::string EscapeForMessage(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const size_t n = Utf8SequenceLength(text, i);
    if (n == 0 || c < 0x20 || c == 0x7f) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
      ++i;
      continue;
    }
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_BASE_SHOW_BYTES_H_
