// Small helpers shared by the installer tests.
#ifndef TELECLAUDE_MESH_TESTS_SERVICES_INSTALLER_INSTALLER_TEST_UTIL_H_
#define TELECLAUDE_MESH_TESTS_SERVICES_INSTALLER_INSTALLER_TEST_UTIL_H_

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/base/strings.h"
#include "common/sqlite/database.h"
#include "services/installer/installer_db.h"

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

// installer.db at `path` as the release of schema `version` left it (the
// first `version` migrations applied), for upgrade tests. The parent
// directory is created.
inline absl::StatusOr<std::unique_ptr<Database>> InstallerDbAtVersion(
    const std::filesystem::path& path, int version) {
  std::filesystem::create_directories(path.parent_path());
  const std::vector<Migration>& all = InstallerDbMigrations();
  if (version < 1 || version > static_cast<int>(all.size()) ||
      all[version - 1].version != version) {
    return absl::InvalidArgumentError(Cat("version: no installer.db migration ", version));
  }
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(path.string());
  if (!db.ok()) return db.status();
  absl::Status migrated =
      (*db)->Migrate(std::vector<Migration>(all.begin(), all.begin() + version));
  if (!migrated.ok()) return migrated;
  return db;
}

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SERVICES_INSTALLER_INSTALLER_TEST_UTIL_H_
