// The cartridge source files under the data dir (DESIGN §6):
//   {cartridges_dir}/{name}{ext}  — active cartridges
//   {incoming_dir}/{name}{ext}    — pending cartridges
// Nothing from the mesh chooses a path: a file name is built only from a name
// that passes IsValidCartridgeName() and a runtime's extension. Writes are
// atomic (temp file in the same directory, fsync, rename, fsync of the
// directory); files are opened with O_NOFOLLOW; every operation first checks
// that the directory resolves to a place inside the data dir, so a directory
// replaced by a symlink that leads out of it is refused.
//
// Thread-compatible: the installer's writer thread is the only user.
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_CARTRIDGE_FILES_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_CARTRIDGE_FILES_H_

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace teleclaude::mesh {

class CartridgeFiles {
 public:
  enum class Place { kActive, kIncoming };

  // `cartridges_dir` and `incoming_dir` are created (0700) when missing.
  // Errors: FAILED_PRECONDITION when a directory cannot be created or does
  // not resolve to a place inside `data_dir`.
  static absl::StatusOr<CartridgeFiles> Open(std::filesystem::path data_dir,
                                             std::filesystem::path cartridges_dir,
                                             std::filesystem::path incoming_dir);

  // Atomically writes `source` as the file of cartridge `name` in `place`
  // (replacing an older one). INVALID_ARGUMENT for a bad name or unknown
  // runtime; FAILED_PRECONDITION when the directory escapes the data dir;
  // INTERNAL "<path>: <errno text>" on I/O errors (nothing is left behind);
  // for a full disk (ENOSPC, EDQUOT) UNAVAILABLE, recognised by IsDiskFull
  // (common/sqlite/statement.h): the installer retries, never gives up.
  absl::Status Write(Place place, std::string_view name, std::string_view runtime,
                     std::string_view source);

  // Reads the file. NOT_FOUND when there is none; other errors as Write.
  absl::StatusOr<std::string> Read(Place place, std::string_view name,
                                   std::string_view runtime) const;

  // Removes the file; OK when there was none.
  absl::Status Remove(Place place, std::string_view name, std::string_view runtime);

  // Names of the well-formed cartridge files ({valid name}{known extension})
  // in `place`, sorted. Temp files and anything else are ignored.
  absl::StatusOr<std::vector<std::string>> List(Place place) const;

  // The path a cartridge file has (for messages and tests).
  std::filesystem::path PathOf(Place place, std::string_view name,
                               std::string_view extension) const;

 private:
  CartridgeFiles(std::filesystem::path data_dir, std::filesystem::path cartridges_dir,
                 std::filesystem::path incoming_dir)
      : data_dir_(std::move(data_dir)),
        cartridges_dir_(std::move(cartridges_dir)),
        incoming_dir_(std::move(incoming_dir)) {}

  const std::filesystem::path& DirOf(Place place) const {
    return place == Place::kActive ? cartridges_dir_ : incoming_dir_;
  }
  // Opens the directory of `place` (O_DIRECTORY) after checking that it
  // resolves inside the data dir. Returns the fd (caller closes).
  absl::StatusOr<int> OpenDir(Place place) const;

  std::filesystem::path data_dir_;
  std::filesystem::path cartridges_dir_;
  std::filesystem::path incoming_dir_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_CARTRIDGE_FILES_H_
