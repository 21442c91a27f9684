#include "common/identity/identity_key.h"

#include <fcntl.h>
#include <sodium/crypto_scalarmult_curve25519.h>
#include <sodium/crypto_sign_ed25519.h>
#include <sodium/randombytes.h>
#include <sodium/utils.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/base/unique_fd.h"
#include "common/identity/internal/sodium.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

namespace {

using identity_internal::InitSodium;

constexpr std::string_view kFilePrefix = "teleclaude-mesh identity v1 ed25519 ";
// The prefix, 44 base64 characters and a newline; anything longer is not a key.
constexpr size_t kMaxFileBytes = 256;

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

std::string Octal(unsigned mode) {
  std::string out;
  for (int shift = 9; shift >= 0; shift -= 3)
    out.push_back(static_cast<char>('0' + ((mode >> shift) & 7)));
  return out;
}

absl::Status Refused(const std::filesystem::path& path, std::string_view what,
                     std::string_view fix) {
  return absl::FailedPreconditionError(Cat("identity key ", path.string(), ": ", what, "; ", fix));
}

absl::Status SystemError(const std::filesystem::path& path, std::string_view op, int err) {
  return absl::InternalError(Cat("identity key ", path.string(), ": ", op, ": ", ErrnoText(err)));
}

// Wipes a secret buffer when it goes out of scope.
template <typename T>
class Wiped {
 public:
  Wiped() = default;
  ~Wiped() { sodium_memzero(&value, sizeof(value)); }
  Wiped(const Wiped&) = delete;
  Wiped& operator=(const Wiped&) = delete;
  T value{};
};

absl::StatusOr<std::unique_ptr<IdentityKey>> LoadFromFd(const std::filesystem::path& path, int fd,
                                                        uid_t owner) {
  struct stat st;
  if (fstat(fd, &st) != 0) return SystemError(path, "fstat", errno);
  if (!S_ISREG(st.st_mode)) {
    return Refused(path, "not a regular file", "move it away; a new key is then created");
  }
  if (st.st_uid != owner) {
    return Refused(path, Cat("owned by uid ", st.st_uid, ", not by this user (uid ", owner, ")"),
                   Cat("run the services as its owner, or chown ", owner, " ", path.string()));
  }
  if ((st.st_mode & 077) != 0) {
    return Refused(
        path,
        Cat("mode ", Octal(st.st_mode & 07777), " lets other users read or change the private key"),
        Cat("run chmod 600 ", path.string(),
            " (and consider the key exposed if others could read it)"));
  }
  Wiped<std::array<char, kMaxFileBytes + 1>> buffer;
  size_t size = 0;
  while (size < buffer.value.size()) {
    ssize_t n = read(fd, buffer.value.data() + size, buffer.value.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SystemError(path, "read", errno);
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  std::string_view text(buffer.value.data(), size);
  if (text.ends_with('\n')) text.remove_suffix(1);
  const absl::Status malformed = Refused(
      path, Cat("not an identity key file (expected one line \"", kFilePrefix, "<base64 seed>\")"),
      "restore it from a backup, or move it away to create a new identity (peers that pinned "
      "the old key then refuse this computer until a person accepts the new one)");
  if (size > kMaxFileBytes || !text.starts_with(kFilePrefix)) return malformed;
  Wiped<IdentityKey::Seed> seed;
  if (!identity_internal::DecodeBase64Exact("seed", "a 32-byte seed",
                                            text.substr(kFilePrefix.size()), seed.value.data(),
                                            seed.value.size())
           .ok()) {
    return malformed;
  }
  return IdentityKey::FromSeed(seed.value);
}

absl::Status WriteAll(const std::filesystem::path& path, int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SystemError(path, "write", errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Writes a fresh key to a new temporary file next to `path` and moves it to
// `path` unless a file appeared there meanwhile. Returns whether this call's
// key was installed (false: another process's key is there; load that one).
absl::StatusOr<bool> CreateKeyFile(const std::filesystem::path& path) {
  Wiped<IdentityKey::Seed> seed;
  randombytes_buf(seed.value.data(), seed.value.size());
  uint32_t nonce = randombytes_random();
  const std::filesystem::path tmp = path.string() + Cat(".tmp-", static_cast<int64_t>(getpid()),
                                                        "-", static_cast<int64_t>(nonce));
  {
    UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) return SystemError(tmp, "create", errno);
    absl::Status written = [&]() -> absl::Status {
      // The umask may have cleared bits of 0600; the owner must read it back.
      if (fchmod(fd.get(), 0600) != 0) return SystemError(tmp, "fchmod", errno);
      Wiped<std::array<char, kMaxFileBytes>> text;
      const std::string b64 = identity_internal::Base64(seed.value.data(), seed.value.size());
      std::string_view line = [&] {
        size_t n = 0;
        for (std::string_view part : {kFilePrefix, std::string_view(b64), std::string_view("\n")}) {
          part.copy(text.value.data() + n, part.size());
          n += part.size();
        }
        return std::string_view(text.value.data(), n);
      }();
      TM_RETURN_IF_ERROR(WriteAll(tmp, fd.get(), line));
      if (fsync(fd.get()) != 0) return SystemError(tmp, "fsync", errno);
      return absl::OkStatus();
    }();
    if (!written.ok()) {
      unlink(tmp.c_str());
      return written;
    }
  }
  // Not rename(2): it would replace a key another process installed (and is
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
    return SystemError(path, "install the new key", err);
  }
  // Make the new directory entry durable too.
  UniqueFd dir(open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                    O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) fsync(dir.get());
  return true;
}

}  // namespace

std::filesystem::path IdentityKey::PathIn(const std::filesystem::path& data_dir) {
  return data_dir / kFileName;
}

absl::StatusOr<std::unique_ptr<IdentityKey>> IdentityKey::LoadOrCreate(
    const std::filesystem::path& path) {
  return LoadOrCreate(path, geteuid());
}

absl::StatusOr<std::unique_ptr<IdentityKey>> IdentityKey::LoadOrCreate(
    const std::filesystem::path& path, uid_t owner) {
  InitSodium();
  // Open, or create and open; after losing a creation race, open the
  // winner's file.
  bool created = false;
  for (int attempt = 0; attempt < 3; ++attempt) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() >= 0) {
      TM_ASSIGN_OR_RETURN(std::unique_ptr<IdentityKey> key, LoadFromFd(path, fd.get(), owner));
      if (created) {
        LOG(INFO) << "created identity key " << path.string() << " (fingerprint "
                  << key->fingerprint().ToString() << ")";
      }
      return key;
    }
    if (errno == ELOOP) {
      return Refused(path, "is a symbolic link",
                     "put the key file itself in the data dir (a link could be pointed at "
                     "another file)");
    }
    if (errno != ENOENT) return SystemError(path, "open", errno);
    TM_ASSIGN_OR_RETURN(created, CreateKeyFile(path));
  }
  return absl::InternalError(
      Cat("identity key ", path.string(), ": appeared and disappeared while being created"));
}

std::unique_ptr<IdentityKey> IdentityKey::FromSeed(const Seed& seed) {
  InitSodium();
  PublicKey::Bytes pk;
  Wiped<std::array<uint8_t, 64>> sk;
  crypto_sign_ed25519_seed_keypair(pk.data(), sk.value.data(), seed.data());
  absl::StatusOr<PublicKey> public_key = PublicKey::FromBytes("identity key", pk);
  // A key made from a seed is a multiple of the base point: always usable.
  CHECK(public_key.ok()) << public_key.status();
  return std::unique_ptr<IdentityKey>(new IdentityKey(sk.value, *std::move(public_key)));
}

std::unique_ptr<IdentityKey> IdentityKey::Generate() {
  InitSodium();
  Wiped<Seed> seed;
  randombytes_buf(seed.value.data(), seed.value.size());
  return FromSeed(seed.value);
}

IdentityKey::IdentityKey(const std::array<uint8_t, 64>& ed25519_secret, PublicKey public_key)
    : ed25519_secret_(ed25519_secret),
      public_key_(std::move(public_key)),
      fingerprint_(Fingerprint::Of(public_key_)) {
  crypto_sign_ed25519_sk_to_curve25519(x25519_secret_.data(), ed25519_secret_.data());
}

IdentityKey::~IdentityKey() {
  sodium_memzero(ed25519_secret_.data(), ed25519_secret_.size());
  sodium_memzero(x25519_secret_.data(), x25519_secret_.size());
}

Signature IdentityKey::Sign(std::string_view message) const {
  Signature::Bytes sig;
  crypto_sign_ed25519_detached(sig.data(), nullptr,
                               reinterpret_cast<const unsigned char*>(message.data()),
                               message.size(), ed25519_secret_.data());
  return Signature(sig);
}

absl::StatusOr<IdentityKey::SharedSecret> IdentityKey::Agree(const PublicKey& peer) const {
  SharedSecret shared;
  if (crypto_scalarmult_curve25519(shared.data(), x25519_secret_.data(), peer.x25519().data()) !=
      0) {
    return absl::InvalidArgumentError("key agreement: the peer's key gives an all-zero secret");
  }
  return shared;
}

}  // namespace teleclaude::mesh
