#include "common/identity/identity_key.h"

#include <sodium/crypto_scalarmult_curve25519.h>
#include <sodium/crypto_sign_ed25519.h>
#include <sodium/randombytes.h>
#include <sodium/utils.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/identity/internal/sodium.h"
#include "common/identity/secret_file.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

namespace {

using identity_internal::InitSodium;

constexpr std::string_view kFilePrefix = "teleclaude-mesh identity v1 ed25519 ";
// The prefix, 44 base64 characters and a newline; anything longer is not a key.
constexpr size_t kMaxFileBytes = 256;

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

SecretFileSpec KeyFileSpec() {
  SecretFileSpec spec;
  spec.what = "identity key";
  spec.noun = "private key";
  spec.short_noun = "key";
  spec.max_bytes = kMaxFileBytes;
  spec.malformed =
      "not an identity key file (expected one line \"teleclaude-mesh identity v1 ed25519 "
      "<base64 seed>\")";
  spec.malformed_fix =
      "restore it from a backup, or move it away to create a new identity (peers that pinned "
      "the old key then refuse this computer until a person accepts the new one)";
  return spec;
}

absl::StatusOr<std::unique_ptr<IdentityKey>> ParseKeyFile(const std::filesystem::path& path,
                                                          const SecretFileSpec& spec,
                                                          std::string_view text) {
  if (text.ends_with('\n')) text.remove_suffix(1);
  if (!text.starts_with(kFilePrefix)) return spec.Malformed(path);
  Wiped<IdentityKey::Seed> seed;
  if (!identity_internal::DecodeBase64Exact("seed", "a 32-byte seed",
                                            text.substr(kFilePrefix.size()), seed.value.data(),
                                            seed.value.size())
           .ok()) {
    return spec.Malformed(path);
  }
  return IdentityKey::FromSeed(seed.value);
}

// A new key file's content: the prefix and the base64 of a fresh seed.
SecretBytes FreshKeyFile() {
  Wiped<IdentityKey::Seed> seed;
  randombytes_buf(seed.value.data(), seed.value.size());
  return SecretBytes(
      Cat(kFilePrefix, identity_internal::Base64(seed.value.data(), seed.value.size()), "\n"));
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
  const SecretFileSpec spec = KeyFileSpec();
  const SecretBytes fresh = FreshKeyFile();
  TM_ASSIGN_OR_RETURN(SecretFile file, LoadOrCreateSecretFile(path, spec, fresh.view(), owner));
  TM_ASSIGN_OR_RETURN(std::unique_ptr<IdentityKey> key,
                      ParseKeyFile(path, spec, file.content.view()));
  if (file.created) {
    LOG(INFO) << "created identity key " << path.string() << " (fingerprint "
              << key->fingerprint().ToString() << ")";
  }
  return key;
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
