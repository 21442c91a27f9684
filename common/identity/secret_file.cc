#include "common/identity/secret_file.h"

#include <fcntl.h>
#include <sodium/randombytes.h>
#include <sodium/utils.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>
#include <utility>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/base/unique_fd.h"
#include "common/identity/internal/sodium.h"

namespace teleclaude::mesh {
namespace {

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

std::string Octal(unsigned mode) {
  std::string out;
  for (int shift = 9; shift >= 0; shift -= 3)
    out.push_back(static_cast<char>('0' + ((mode >> shift) & 7)));
  return out;
}

absl::Status SystemError(std::string_view what, const std::filesystem::path& path,
                         std::string_view op, int err) {
  return absl::InternalError(Cat(what, " ", path.string(), ": ", op, ": ", ErrnoText(err)));
}

void Wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
}

absl::StatusOr<SecretBytes> ReadFromFd(const std::filesystem::path& path, int fd,
                                       const SecretFileSpec& spec, uid_t owner) {
  struct stat st;
  if (fstat(fd, &st) != 0) return SystemError(spec.what, path, "fstat", errno);
  if (!S_ISREG(st.st_mode)) {
    return SecretFileRefused(spec.what, path, "not a regular file",
                             "move it away; a new one is then created");
  }
  if (st.st_uid != owner) {
    return SecretFileRefused(
        spec.what, path, Cat("owned by uid ", st.st_uid, ", not by this user (uid ", owner, ")"),
        Cat("run the services as its owner, or chown ", owner, " ", path.string()));
  }
  if ((st.st_mode & 077) != 0) {
    return SecretFileRefused(
        spec.what, path,
        Cat("mode ", Octal(st.st_mode & 07777), " lets other users read or change the ", spec.noun),
        Cat("run chmod 600 ", path.string(), " (and consider the ", spec.short_noun,
            " exposed if others could read it)"));
  }
  std::string buffer(spec.max_bytes + 1, '\0');
  size_t size = 0;
  while (size < buffer.size()) {
    ssize_t n = read(fd, buffer.data() + size, buffer.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Wipe(buffer);
      return SystemError(spec.what, path, "read", errno);
    }
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  if (size > spec.max_bytes) {
    Wipe(buffer);
    return spec.Malformed(path);
  }
  buffer.resize(size);
  return SecretBytes(std::move(buffer));
}

absl::Status WriteAll(std::string_view what, const std::filesystem::path& path, int fd,
                      std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SystemError(what, path, "write", errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Writes `fresh` to a new temporary file next to `path` and moves it to
// `path` unless a file appeared there meanwhile. Returns whether this call's
// file was installed (false: another process's file is there; read that one).
absl::StatusOr<bool> CreateFile(const std::filesystem::path& path, const SecretFileSpec& spec,
                                std::string_view fresh) {
  identity_internal::InitSodium();
  const uint32_t nonce = randombytes_random();
  const std::filesystem::path tmp = path.string() + Cat(".tmp-", static_cast<int64_t>(getpid()),
                                                        "-", static_cast<int64_t>(nonce));
  {
    UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) return SystemError(spec.what, tmp, "create", errno);
    absl::Status written = [&]() -> absl::Status {
      // The umask may have cleared bits of 0600; the owner must read it back.
      if (fchmod(fd.get(), 0600) != 0) return SystemError(spec.what, tmp, "fchmod", errno);
      TM_RETURN_IF_ERROR(WriteAll(spec.what, tmp, fd.get(), fresh));
      if (fsync(fd.get()) != 0) return SystemError(spec.what, tmp, "fsync", errno);
      return absl::OkStatus();
    }();
    if (!written.ok()) {
      unlink(tmp.c_str());
      return written;
    }
  }
  // Not rename(2): it would replace a file another process installed (and is
  // already using) a moment earlier.
  int rc = renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
    // The file system has no RENAME_NOREPLACE: link(2) also fails on EEXIST.
    rc = link(tmp.c_str(), path.c_str());
    if (rc == 0) unlink(tmp.c_str());
  }
  const int err = errno;
  if (rc != 0) {
    unlink(tmp.c_str());
    if (err == EEXIST) return false;
    return SystemError(spec.what, path, "install the new file", err);
  }
  // Make the new directory entry durable too.
  UniqueFd dir(open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                    O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) fsync(dir.get());
  return true;
}

absl::Status SymlinkRefused(std::string_view what, const std::filesystem::path& path) {
  return SecretFileRefused(what, path, "is a symbolic link",
                           "put the file itself in the directory (a link could be pointed at "
                           "another file)");
}

}  // namespace

SecretBytes::~SecretBytes() { Wipe(bytes_); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
  other.bytes_.clear();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe(bytes_);
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

absl::Status SecretFileSpec::Malformed(const std::filesystem::path& path) const {
  return SecretFileRefused(what, path, malformed, malformed_fix);
}

absl::Status SecretFileRefused(std::string_view what, const std::filesystem::path& path,
                               std::string_view problem, std::string_view fix) {
  return absl::FailedPreconditionError(Cat(what, " ", path.string(), ": ", problem, "; ", fix));
}

absl::StatusOr<SecretFile> LoadOrCreateSecretFile(const std::filesystem::path& path,
                                                  const SecretFileSpec& spec,
                                                  std::string_view fresh, uid_t owner) {
  // Open, or create and open; after losing a creation race, open the
  // winner's file.
  bool created = false;
  for (int attempt = 0; attempt < 3; ++attempt) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() >= 0) {
      TM_ASSIGN_OR_RETURN(SecretBytes content, ReadFromFd(path, fd.get(), spec, owner));
      return SecretFile{std::move(content), created};
    }
    if (errno == ELOOP) return SymlinkRefused(spec.what, path);
    if (errno != ENOENT) return SystemError(spec.what, path, "open", errno);
    TM_ASSIGN_OR_RETURN(created, CreateFile(path, spec, fresh));
  }
  return absl::InternalError(
      Cat(spec.what, " ", path.string(), ": appeared and disappeared while being created"));
}

absl::StatusOr<SecretBytes> LoadSecretFile(const std::filesystem::path& path,
                                           const SecretFileSpec& spec, uid_t owner,
                                           std::string_view missing_fix) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ELOOP) return SymlinkRefused(spec.what, path);
    if (errno == ENOENT) {
      return absl::NotFoundError(
          Cat(spec.what, " ", path.string(), ": no such file; ", missing_fix));
    }
    return SystemError(spec.what, path, "open", errno);
  }
  return ReadFromFd(path, fd.get(), spec, owner);
}

}  // namespace teleclaude::mesh
