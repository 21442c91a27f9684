#include "common/mesh/cartridge_signature.h"

#include "common/base/show_bytes.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/identity/fingerprint.h"
#include "common/identity/transcript.h"

namespace teleclaude::mesh {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

absl::StatusOr<std::string> Sha256Bytes(std::string_view hex) {
  std::string bytes;
  if (hex.size() == 64) {
    for (size_t i = 0; i < hex.size(); i += 2) {
      const int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
      if (hi < 0 || lo < 0) break;
      bytes.push_back(static_cast<char>(hi * 16 + lo));
    }
  }
  if (bytes.size() != 32) {
    return absl::InvalidArgumentError(
        Cat("code_sha256: expected 64 lower-case hex digits, got ", ShowBytes(hex, 80)));
  }
  return bytes;
}

}  // namespace

absl::StatusOr<std::string> CartridgeSignedBytes(const CartridgeStatement& s,
                                                 const PublicKey& author_key) {
  TM_ASSIGN_OR_RETURN(std::string sha256, Sha256Bytes(s.code_sha256));
  const std::string dependencies = TranscriptList(s.dependencies);
  return TranscriptBytes(kCartridgeSignatureDomain,
                         {s.author, s.name, s.version, s.runtime, s.entry_point, s.event_type,
                          s.description, dependencies, sha256, author_key.view()});
}

absl::StatusOr<CartridgeSignature> SignCartridge(const CartridgeStatement& statement,
                                                 const IdentityKey& key) {
  TM_ASSIGN_OR_RETURN(std::string bytes, CartridgeSignedBytes(statement, key.public_key()));
  return CartridgeSignature{key.public_key(), key.Sign(bytes)};
}

std::string AuthorKeyValue(const CartridgeSignature& signature) {
  return signature.author_key.Base64();
}

std::string AuthorSignatureValue(const CartridgeSignature& signature) {
  return signature.signature.ToWire();
}

absl::StatusOr<std::optional<CartridgeSignature>> DecodeCartridgeSignature(
    std::optional<std::string_view> author_key, std::optional<std::string_view> author_signature) {
  if (!author_key.has_value() && !author_signature.has_value()) return std::nullopt;
  if (!author_key.has_value()) {
    return absl::InvalidArgumentError("author_key: missing while author_signature is present");
  }
  if (!author_signature.has_value()) {
    return absl::InvalidArgumentError("author_signature: missing while author_key is present");
  }
  TM_ASSIGN_OR_RETURN(PublicKey key, PublicKey::FromBase64(kFieldAuthorKey, *author_key));
  TM_ASSIGN_OR_RETURN(Signature sig, Signature::FromWire(kFieldAuthorSignature, *author_signature));
  return CartridgeSignature{key, sig};
}

absl::Status VerifyCartridgeSignature(const CartridgeStatement& statement,
                                      const CartridgeSignature& signature,
                                      const PublicKey& pinned_author_key) {
  if (!(signature.author_key == pinned_author_key)) {
    return absl::PermissionDeniedError(
        Cat("author_key: ", Fingerprint::Of(signature.author_key).ToString(),
            " is not the key pinned for author ", ShowBytes(statement.author, 64), " (",
            Fingerprint::Of(pinned_author_key).ToString(), ")"));
  }
  TM_ASSIGN_OR_RETURN(std::string bytes, CartridgeSignedBytes(statement, signature.author_key));
  if (!signature.author_key.Verify(bytes, signature.signature)) {
    return absl::UnauthenticatedError(
        "author_signature: does not verify against author_key (a field, the code or the author "
        "was altered after signing)");
  }
  return absl::OkStatus();
}

}  // namespace teleclaude::mesh
