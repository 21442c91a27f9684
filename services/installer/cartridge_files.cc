#include "services/installer/cartridge_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/base/unique_fd.h"
#include "common/cartridge/runtime.h"
#include "common/sqlite/statement.h"
#include "services/installer/cartridge_payload.h"

namespace teleclaude::mesh {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

absl::Status IoError(const std::filesystem::path& path, std::string_view op, int err) {
  std::string message = absl::StrCat(path.string(), ": ", ToAbsl(op), ": ", ErrnoText(err));
  // A full disk is installer.db's condition too: retried, never final.
  if (err == ENOSPC || err == EDQUOT) return DiskFullStatus(std::move(message));
  return absl::InternalError(message);
}

bool IsInside(const std::filesystem::path& child, const std::filesystem::path& parent) {
  auto c = child.begin();
  for (auto p = parent.begin(); p != parent.end(); ++p, ++c) {
    if (p->empty()) continue;  // a trailing separator
    if (c == child.end() || *c != *p) return false;
  }
  return true;
}

absl::StatusOr<std::string> FileName(std::string_view name, std::string_view runtime) {
  if (!IsValidCartridgeName(name)) {
    return absl::InvalidArgumentError(absl::StrCat("name: \"", ToAbsl(name),
                                                   "\" is not a valid cartridge name (",
                                                   ToAbsl(kCartridgeNamePattern), ")"));
  }
  const CartridgeRuntime* rt = FindCartridgeRuntime(runtime);
  if (rt == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("runtime: \"", ToAbsl(runtime),
                     "\" is not supported; supported: ", SupportedRuntimeNames()));
  }
  return absl::StrCat(ToAbsl(name), ToAbsl(rt->extension));
}

absl::Status EnsureDir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir.string(), ": cannot create the directory: ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CartridgeFiles> CartridgeFiles::Open(std::filesystem::path data_dir,
                                                    std::filesystem::path cartridges_dir,
                                                    std::filesystem::path incoming_dir) {
  TM_RETURN_IF_ERROR(EnsureDir(data_dir));
  if (!std::filesystem::exists(cartridges_dir)) {
    TM_RETURN_IF_ERROR(EnsureDir(cartridges_dir));
  }
  if (!std::filesystem::exists(incoming_dir)) {
    TM_RETURN_IF_ERROR(EnsureDir(incoming_dir));
  }
  CartridgeFiles files(std::move(data_dir), std::move(cartridges_dir), std::move(incoming_dir));
  for (Place place : {Place::kActive, Place::kIncoming}) {
    TM_ASSIGN_OR_RETURN(int fd, files.OpenDir(place));
    close(fd);
  }
  return files;
}

absl::StatusOr<int> CartridgeFiles::OpenDir(Place place) const {
  const std::filesystem::path& dir = DirOf(place);
  std::error_code ec;
  std::filesystem::path root = std::filesystem::canonical(data_dir_, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat(data_dir_.string(), ": cannot resolve the data dir: ", ec.message()));
  }
  std::filesystem::path resolved = std::filesystem::canonical(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir.string(), ": cannot resolve the cartridge directory: ", ec.message()));
  }
  if (!IsInside(resolved, root)) {
    return absl::FailedPreconditionError(absl::StrCat(
        dir.string(), ": resolves to ", resolved.string(), ", outside the data dir ", root.string(),
        "; refusing to write cartridge files there (remove the symlink)"));
  }
  int fd = open(resolved.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return IoError(resolved, "open directory", errno);
  return fd;
}

std::filesystem::path CartridgeFiles::PathOf(Place place, std::string_view name,
                                             std::string_view extension) const {
  return DirOf(place) / absl::StrCat(ToAbsl(name), ToAbsl(extension));
}

absl::Status CartridgeFiles::Write(Place place, std::string_view name, std::string_view runtime,
                                   std::string_view source) {
  TM_ASSIGN_OR_RETURN(std::string file, FileName(name, runtime));
  TM_ASSIGN_OR_RETURN(int raw_dir, OpenDir(place));
  UniqueFd dir(raw_dir);
  static std::atomic<uint64_t> counter{0};
  std::string tmp = absl::StrCat(".", file, ".tmp.", getpid(), ".", counter.fetch_add(1));
  const std::filesystem::path tmp_path = DirOf(place) / tmp;

  int raw =
      openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (raw < 0) return IoError(tmp_path, "create", errno);
  absl::Status status;
  {
    UniqueFd out(raw);
    size_t done = 0;
    while (done < source.size()) {
      ssize_t n = write(out.get(), source.data() + done, source.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        status = IoError(tmp_path, "write", errno);
        break;
      }
      done += static_cast<size_t>(n);
    }
    if (status.ok() && fsync(out.get()) != 0) status = IoError(tmp_path, "fsync", errno);
  }
  if (status.ok() && renameat(dir.get(), tmp.c_str(), dir.get(), file.c_str()) != 0) {
    status = IoError(DirOf(place) / file, "rename", errno);
  }
  if (!status.ok()) {
    unlinkat(dir.get(), tmp.c_str(), 0);
    return status;
  }
  if (fsync(dir.get()) != 0) return IoError(DirOf(place), "fsync directory", errno);
  return absl::OkStatus();
}

absl::StatusOr<std::string> CartridgeFiles::Read(Place place, std::string_view name,
                                                 std::string_view runtime) const {
  TM_ASSIGN_OR_RETURN(std::string file, FileName(name, runtime));
  TM_ASSIGN_OR_RETURN(int raw_dir, OpenDir(place));
  UniqueFd dir(raw_dir);
  int raw = openat(dir.get(), file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (raw < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat((DirOf(place) / file).string(), ": no such file"));
    }
    return IoError(DirOf(place) / file, "open", errno);
  }
  UniqueFd in(raw);
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = read(in.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(DirOf(place) / file, "read", errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

absl::Status CartridgeFiles::Remove(Place place, std::string_view name, std::string_view runtime) {
  TM_ASSIGN_OR_RETURN(std::string file, FileName(name, runtime));
  TM_ASSIGN_OR_RETURN(int raw_dir, OpenDir(place));
  UniqueFd dir(raw_dir);
  if (unlinkat(dir.get(), file.c_str(), 0) != 0 && errno != ENOENT) {
    return IoError(DirOf(place) / file, "unlink", errno);
  }
  if (fsync(dir.get()) != 0) return IoError(DirOf(place), "fsync directory", errno);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> CartridgeFiles::List(Place place) const {
  TM_ASSIGN_OR_RETURN(int raw_dir, OpenDir(place));
  DIR* d = fdopendir(raw_dir);
  if (d == nullptr) {
    int err = errno;
    close(raw_dir);
    return IoError(DirOf(place), "read directory", err);
  }
  std::vector<std::string> names;
  while (struct dirent* entry = readdir(d)) {
    std::string_view file(entry->d_name);
    for (const CartridgeRuntime& rt : kSupportedRuntimes) {
      if (file.size() > rt.extension.size() &&
          file.substr(file.size() - rt.extension.size()) == rt.extension) {
        std::string_view name = file.substr(0, file.size() - rt.extension.size());
        if (IsValidCartridgeName(name)) names.emplace_back(name);
      }
    }
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace teleclaude::mesh
