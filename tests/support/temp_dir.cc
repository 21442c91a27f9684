#include "tests/support/temp_dir.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <system_error>

#include "glog/logging.h"

namespace teleclaude::mesh::testing {

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/tm-test-XXXXXX";
  char* made = mkdtemp(tmpl.data());
  CHECK(made != nullptr) << "mkdtemp " << tmpl << " failed";
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  // Make everything removable again (tests take permissions away).
  chmod(path_.c_str(), 0700);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path_, ec)) {
    if (entry.is_directory()) chmod(entry.path().c_str(), 0700);
  }
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::File(std::string_view name) const { return (path_ / name).string(); }

}  // namespace teleclaude::mesh::testing
