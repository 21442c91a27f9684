// Internal to common/envelope: string concatenation that accepts
// std::string_view. (Debian's abseil 20220623 is built with its own
// absl::string_view, so absl::StrCat does not take std::string_view.)
#ifndef TELECLAUDE_MESH_COMMON_ENVELOPE_INTERNAL_CAT_H_
#define TELECLAUDE_MESH_COMMON_ENVELOPE_INTERNAL_CAT_H_

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/string_view.h"

namespace teleclaude::mesh::json::internal {

inline void CatPiece(std::string& out, std::string_view s) { out.append(s); }
inline void CatPiece(std::string& out, const char* s) { out.append(s); }
inline void CatPiece(std::string& out, const std::string& s) { out.append(s); }
inline void CatPiece(std::string& out, absl::string_view s) {
  out.append(s.data(), s.size());
}
template <typename T,
          typename = std::enable_if_t<std::is_integral_v<T>>>
void CatPiece(std::string& out, T v) {
  out.append(std::to_string(v));
}

template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (CatPiece(out, args), ...);
  return out;
}

inline std::string_view ToStd(absl::string_view s) {
  return std::string_view(s.data(), s.size());
}

}  // namespace teleclaude::mesh::json::internal

#endif  // TELECLAUDE_MESH_COMMON_ENVELOPE_INTERNAL_CAT_H_
