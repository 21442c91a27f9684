// Small helpers shared by the installer tests.
#ifndef TELECLAUDE_MESH_TESTS_SERVICES_INSTALLER_INSTALLER_TEST_UTIL_H_
#define TELECLAUDE_MESH_TESTS_SERVICES_INSTALLER_INSTALLER_TEST_UTIL_H_

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace teleclaude::mesh::testing {

// Every regular file and symlink under `root`, relative, sorted.
inline std::vector<std::string> FilesUnder(const std::filesystem::path& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_directory()) out.push_back(std::filesystem::relative(it->path(), root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SERVICES_INSTALLER_INSTALLER_TEST_UTIL_H_
