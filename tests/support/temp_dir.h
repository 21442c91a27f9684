// A temporary directory removed (recursively, whatever permissions a test
// left on it) when the object dies.
#ifndef TELECLAUDE_MESH_TESTS_SUPPORT_TEMP_DIR_H_
#define TELECLAUDE_MESH_TESTS_SUPPORT_TEMP_DIR_H_

#include <filesystem>
#include <string>
#include <string_view>

namespace teleclaude::mesh::testing {

// Not thread-safe. CHECK-fails when the directory cannot be made.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path()/name as a string.
  std::string File(std::string_view name) const;

 private:
  std::filesystem::path path_;
};

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SUPPORT_TEMP_DIR_H_
