#include "common/identity/public_key.h"

#include <sodium/crypto_sign_ed25519.h>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/identity/internal/sodium.h"

namespace teleclaude::mesh {

using identity_internal::InitSodium;

std::string Signature::ToWire() const {
  return identity_internal::VersionedBase64(bytes_.data(), bytes_.size());
}

absl::StatusOr<Signature> Signature::FromWire(std::string_view field, std::string_view text) {
  Bytes bytes;
  TM_RETURN_IF_ERROR(identity_internal::DecodeVersionedBase64(field, "an Ed25519 signature", text,
                                                              bytes.data(), bytes.size()));
  return Signature(bytes);
}

absl::StatusOr<PublicKey> PublicKey::FromBytes(std::string_view field, const Bytes& bytes) {
  InitSodium();
  Bytes x25519;
  // Refuses keys of small order and keys off the prime-order subgroup (the
  // keys for which a signature or an agreement would prove nothing).
  if (crypto_sign_ed25519_pk_to_curve25519(x25519.data(), bytes.data()) != 0) {
    return absl::InvalidArgumentError(
        Cat(field, ": not a usable Ed25519 public key (small order or not on the curve)"));
  }
  return PublicKey(bytes, x25519);
}

absl::StatusOr<PublicKey> PublicKey::FromBase64(std::string_view field, std::string_view text) {
  Bytes bytes;
  TM_RETURN_IF_ERROR(identity_internal::DecodeBase64Exact(field, "an Ed25519 public key", text,
                                                          bytes.data(), bytes.size()));
  return FromBytes(field, bytes);
}

std::string PublicKey::Base64() const {
  return identity_internal::Base64(ed25519_.data(), ed25519_.size());
}

bool PublicKey::Verify(std::string_view message, const Signature& signature) const {
  return crypto_sign_ed25519_verify_detached(signature.bytes().data(),
                                             reinterpret_cast<const unsigned char*>(message.data()),
                                             message.size(), ed25519_.data()) == 0;
}

}  // namespace teleclaude::mesh
