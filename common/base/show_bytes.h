// Bytes from the outside world quoted for a one-line error message.
// Stateless; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_BASE_SHOW_BYTES_H_
#define TELECLAUDE_MESH_COMMON_BASE_SHOW_BYTES_H_

#include <cstddef>
#include <string>
#include <string_view>

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

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_BASE_SHOW_BYTES_H_
