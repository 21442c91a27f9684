// Small helpers shared by the installer tests (temp dirs until tests/support
// offers them everywhere).
#ifndef TELECLAUDE_MESH_TESTS_SERVICES_INSTALLER_INSTALLER_TEST_UTIL_H_
#define TELECLAUDE_MESH_TESTS_SERVICES_INSTALLER_INSTALLER_TEST_UTIL_H_

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace teleclaude::mesh::testing {

// A fresh directory under $TMPDIR, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "installer-test-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    path_ = made != nullptr ? std::filesystem::path(made) : std::filesystem::path();
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

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
