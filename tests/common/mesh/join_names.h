// Test helper of the membership tests: names joined for comparison.
#ifndef TELECLAUDE_MESH_TESTS_COMMON_MESH_JOIN_NAMES_H_
#define TELECLAUDE_MESH_TESTS_COMMON_MESH_JOIN_NAMES_H_

#include <string>
#include <string_view>
#include <vector>

namespace teleclaude::mesh::testing {

// "a b c" (absl::StrJoin takes no std::string_view in this abseil).
inline std::string JoinNames(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += " ";
    out += n;
  }
  return out;
}

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_COMMON_MESH_JOIN_NAMES_H_
