// abseil 20220623 as packaged by Debian has its own absl::string_view (not
// an alias of std::string_view), so absl::StrCat and friends do not take a
// std::string_view. These two conversions bridge the gap at call sites.
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_SV_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_SV_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace teleclaude::mesh {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view StdSv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_SV_H_
