// A computer's public identity key (Ed25519, libsodium) and the signatures
// it verifies (doc/security.md "Keys"). The same key, converted to its
// X25519 form, is the peer's half of the pair key of authenticated mesh
// messages (pair_key_cache.h). Value types; immutable; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_IDENTITY_PUBLIC_KEY_H_
#define TELECLAUDE_MESH_COMMON_IDENTITY_PUBLIC_KEY_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace teleclaude::mesh {

// A detached Ed25519 signature (64 bytes).
class Signature {
 public:
  static constexpr size_t kBytes = 64;
  using Bytes = std::array<uint8_t, kBytes>;

  explicit Signature(const Bytes& bytes) : bytes_(bytes) {}

  const Bytes& bytes() const { return bytes_; }
  // Wire form: "v1:" + standard padded base64 (88 characters).
  std::string ToWire() const;
  // Parses the wire form. INVALID_ARGUMENT "<field>: ..." when `text` is not
  // exactly "v1:" + the canonical base64 of 64 bytes (another version is
  // named as such).
  static absl::StatusOr<Signature> FromWire(std::string_view field, std::string_view text);

  friend bool operator==(const Signature&, const Signature&) = default;

 private:
  Bytes bytes_;
};

// An Ed25519 public key that libsodium accepts for both of its uses: not of
// small order, on the prime-order subgroup, convertible to X25519 (checked
// when the key is made, so every PublicKey can verify and agree).
class PublicKey {
 public:
  static constexpr size_t kBytes = 32;
  using Bytes = std::array<uint8_t, kBytes>;

  // INVALID_ARGUMENT "<field>: ..." when `bytes` is not a usable key.
  static absl::StatusOr<PublicKey> FromBytes(std::string_view field, const Bytes& bytes);
  // Standard padded base64 of the 32 bytes (44 characters, canonical only),
  // then as FromBytes.
  static absl::StatusOr<PublicKey> FromBase64(std::string_view field, std::string_view text);

  const Bytes& bytes() const { return ed25519_; }
  // The 32 bytes as a string_view (for transcripts).
  std::string_view view() const {
    return std::string_view(reinterpret_cast<const char*>(ed25519_.data()), ed25519_.size());
  }
  // Standard padded base64 (44 characters): the form of the `public_key`
  // and `author_key` wire fields.
  std::string Base64() const;
  // The X25519 (Montgomery) form of the key.
  const Bytes& x25519() const { return x25519_; }

  // Whether `signature` is a valid Ed25519 signature of `message` by this
  // key (libsodium crypto_sign_verify_detached: canonical S, no small-order
  // R or key).
  bool Verify(std::string_view message, const Signature& signature) const;

  friend bool operator==(const PublicKey& a, const PublicKey& b) {
    return a.ed25519_ == b.ed25519_;
  }
  template <typename H>
  friend H AbslHashValue(H h, const PublicKey& k) {
    return H::combine_contiguous(std::move(h), k.ed25519_.data(), k.ed25519_.size());
  }

 private:
  PublicKey(const Bytes& ed25519, const Bytes& x25519) : ed25519_(ed25519), x25519_(x25519) {}

  Bytes ed25519_;
  Bytes x25519_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_IDENTITY_PUBLIC_KEY_H_
