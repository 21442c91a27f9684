// String helpers that bridge std::string_view and abseil. Debian 12's abseil
// 20220623 is built with its own absl::string_view (not an alias of
// std::string_view), so absl::StrCat, SimpleAtoi, ConsumePrefix and
// Status::message() do not mix with std::string_view directly. Use these
// instead of writing local copies.
#ifndef TELECLAUDE_MESH_COMMON_BASE_STRINGS_H_
#define TELECLAUDE_MESH_COMMON_BASE_STRINGS_H_

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/string_view.h"

namespace teleclaude::mesh {

inline std::string_view ToStd(absl::string_view s) { return {s.data(), s.size()}; }
inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }

namespace strings_internal {
inline void Append(std::string& out, std::string_view s) { out.append(s); }
inline void Append(std::string& out, const char* s) { out.append(s); }
inline void Append(std::string& out, const std::string& s) { out.append(s); }
inline void Append(std::string& out, absl::string_view s) { out.append(s.data(), s.size()); }
inline void Append(std::string& out, char c) { out.push_back(c); }
template <typename T>
requires(std::is_integral_v<T> && !std::is_same_v<T, char> &&
         !std::is_same_v<T, bool>) void Append(std::string& out, T v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}
}  // namespace strings_internal

// Concatenates strings (any of std::string, std::string_view, const char*,
// absl::string_view, char) and integers.
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (strings_internal::Append(out, args), ...);
  return out;
}

// Appends to `out` like Cat.
template <typename... Args>
void CatTo(std::string& out, const Args&... args) {
  (strings_internal::Append(out, args), ...);
}

// Parses a whole decimal integer (optional '-'); false on anything else.
template <typename T>
requires std::is_integral_v<T>
bool ParseInt(std::string_view text, T* out) {
  if (text.empty()) return false;
  const char* begin = text.data();
  if (*begin == '+') return false;
  auto [end, ec] = std::from_chars(begin, text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_BASE_STRINGS_H_
