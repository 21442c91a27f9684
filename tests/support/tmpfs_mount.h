// A small tmpfs mounted at a directory for the life of the object: a file
// system a test can fill (disk-full tests, issue 18). Needs CAP_SYS_ADMIN
// (root, as CI runs); Mount() says so when it cannot.
#ifndef TELECLAUDE_MESH_TESTS_SUPPORT_TMPFS_MOUNT_H_
#define TELECLAUDE_MESH_TESTS_SUPPORT_TMPFS_MOUNT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace teleclaude::mesh::testing {

// Not thread-safe. The destructor unmounts (lazily: a child still holding a
// file keeps it until it exits).
class TmpfsMount {
 public:
  // Creates `dir` when missing and mounts a tmpfs of `bytes` (rounded up to
  // pages) on it, mode 0700. PERMISSION_DENIED "mount tmpfs on DIR: ..."
  // when this process may not mount.
  static absl::StatusOr<std::unique_ptr<TmpfsMount>> Mount(const std::string& dir, int64_t bytes);
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  const std::string& dir() const { return dir_; }
  // Writes files `{dir}/fill-N` of `chunk` bytes until the file system is
  // full (the last one partly); returns how many bytes were written.
  absl::StatusOr<int64_t> Fill(int64_t chunk = 256 << 10);
  // Deletes fill files until at least `bytes` were freed (all when fewer
  // exist); returns the bytes freed.
  int64_t Free(int64_t bytes);
  // Bytes free on the file system.
  int64_t FreeBytes() const;

 private:
  explicit TmpfsMount(std::string dir) : dir_(std::move(dir)) {}
  const std::string dir_;
  int next_fill_ = 0;
  int next_free_ = 0;
};

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SUPPORT_TMPFS_MOUNT_H_
