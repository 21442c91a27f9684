// This computer's long-term identity: an Ed25519 key pair (libsodium) kept
// in `{data_dir}/identity.key` (doc/security.md "Key storage"). It signs the
// heartbeat and published cartridges, and its X25519 form agrees the pair
// keys of authenticated mesh messages with each peer (pair_key_cache.h).
//
// The file is one line, "teleclaude-mesh identity v1 ed25519 <base64 of the
// 32-byte seed>\n", mode 0600, owned by the user running the service.
//
// Thread-safe: immutable after construction. The secret key is wiped from
// memory when the object is destroyed.
#ifndef TELECLAUDE_MESH_COMMON_IDENTITY_IDENTITY_KEY_H_
#define TELECLAUDE_MESH_COMMON_IDENTITY_IDENTITY_KEY_H_

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/identity/fingerprint.h"
#include "common/identity/public_key.h"

namespace teleclaude::mesh {

class IdentityKey {
 public:
  static constexpr size_t kSeedBytes = 32;
  using Seed = std::array<uint8_t, kSeedBytes>;
  // The X25519 shared secret of two identities.
  using SharedSecret = std::array<uint8_t, 32>;
  static constexpr std::string_view kFileName = "identity.key";

  // {data_dir}/identity.key
  static std::filesystem::path PathIn(const std::filesystem::path& data_dir);

  // Loads the key at `path`; when there is no file there, first creates one
  // with a fresh key, atomically: the key is written to a new temporary file
  // (O_EXCL, mode 0600), fsync'ed, and moved to `path` only if `path` still
  // does not exist (renameat2 RENAME_NOREPLACE, or link(2) where the file
  // system lacks it), so processes starting at once all end with the one key
  // that won. Never replaces an existing file.
  //
  // Refused with FAILED_PRECONDITION and one line "identity key PATH: <what>;
  // <fix>" when the file is a symbolic link or not a regular file, is not
  // owned by `owner`, can be read or written by group or others (mode & 077),
  // or does not hold a key in the format above; errors of the file system
  // are INTERNAL / the errno's message.
  static absl::StatusOr<std::unique_ptr<IdentityKey>> LoadOrCreate(
      const std::filesystem::path& path);
  // As above with the owner the file must have (the default is geteuid()).
  static absl::StatusOr<std::unique_ptr<IdentityKey>> LoadOrCreate(
      const std::filesystem::path& path, uid_t owner);

  // A key from a known seed (tests, benchmarks, test vectors).
  static std::unique_ptr<IdentityKey> FromSeed(const Seed& seed);
  // A fresh random key, not stored anywhere (tests, benchmarks).
  static std::unique_ptr<IdentityKey> Generate();

  ~IdentityKey();
  IdentityKey(const IdentityKey&) = delete;
  IdentityKey& operator=(const IdentityKey&) = delete;

  const PublicKey& public_key() const { return public_key_; }
  const Fingerprint& fingerprint() const { return fingerprint_; }

  // Ed25519 signature of `message` (deterministic).
  Signature Sign(std::string_view message) const;

  // X25519(this key's secret, `peer`'s public key). INVALID_ARGUMENT when
  // the result is all zero (libsodium refuses such a peer key).
  absl::StatusOr<SharedSecret> Agree(const PublicKey& peer) const;

 private:
  IdentityKey(const std::array<uint8_t, 64>& ed25519_secret, PublicKey public_key);

  std::array<uint8_t, 64> ed25519_secret_;  // libsodium's seed || public key
  std::array<uint8_t, 32> x25519_secret_;
  const PublicKey public_key_;
  const Fingerprint fingerprint_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_IDENTITY_IDENTITY_KEY_H_
