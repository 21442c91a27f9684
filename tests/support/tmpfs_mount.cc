#include "tests/support/tmpfs_mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace teleclaude::mesh::testing {

absl::StatusOr<std::unique_ptr<TmpfsMount>> TmpfsMount::Mount(const std::string& dir,
                                                              int64_t bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", dir, ": ", ec.message()));
  const std::string data = absl::StrCat("size=", bytes, ",mode=0700");
  if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, data.c_str()) != 0) {
    const int err = errno;
    return absl::PermissionDeniedError(
        absl::StrCat("mount tmpfs on ", dir, ": ", std::strerror(err),
                     " (needs root / CAP_SYS_ADMIN, as CI has; the disk-full test did NOT run)"));
  }
  return std::unique_ptr<TmpfsMount>(new TmpfsMount(dir));
}

TmpfsMount::~TmpfsMount() { ::umount2(dir_.c_str(), MNT_DETACH); }

absl::StatusOr<int64_t> TmpfsMount::Fill(int64_t chunk) {
  const std::vector<char> zeros(static_cast<size_t>(chunk), 'x');
  int64_t written = 0;
  while (true) {
    const std::string path = absl::StrCat(dir_, "/fill-", next_fill_++);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == ENOSPC) return written;
      return absl::InternalError(absl::StrCat("open ", path, ": ", std::strerror(errno)));
    }
    int64_t in_file = 0;
    bool full = false;
    while (in_file < chunk) {
      ssize_t n = ::write(fd, zeros.data() + in_file, static_cast<size_t>(chunk - in_file));
      if (n < 0) {
        if (errno == EINTR) continue;
        full = errno == ENOSPC;
        if (!full) {
          int err = errno;
          ::close(fd);
          return absl::InternalError(absl::StrCat("write ", path, ": ", std::strerror(err)));
        }
        break;
      }
      in_file += n;
    }
    ::close(fd);
    written += in_file;
    if (full) return written;
  }
}

int64_t TmpfsMount::Free(int64_t bytes) {
  int64_t freed = 0;
  while (freed < bytes && next_free_ < next_fill_) {
    const std::string path = absl::StrCat(dir_, "/fill-", next_free_++);
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && std::filesystem::remove(path, ec)) freed += static_cast<int64_t>(size);
  }
  return freed;
}

int64_t TmpfsMount::FreeBytes() const {
  struct statvfs st {};
  if (::statvfs(dir_.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

}  // namespace teleclaude::mesh::testing
