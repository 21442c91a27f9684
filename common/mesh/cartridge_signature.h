// The author's signature of a published cartridge (DESIGN §5,
// doc/security.md "Cartridge signature"): two members the publisher adds to
// the `cartridge.published` payload,
//
//   "author_key":       the author computer's Ed25519 public key (base64)
//   "author_signature": "v1:" + base64 of its Ed25519 signature over
//                       CartridgeSignedBytes
//
// so a cartridge relayed by anyone still proves which key wrote it. The
// signature covers what decides what runs and what a person is shown:
// author, name, version, runtime, entry point, event type, description,
// dependencies and the SHA-256 of the decoded source. Pure functions;
// thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_MESH_CARTRIDGE_SIGNATURE_H_
#define TELECLAUDE_MESH_COMMON_MESH_CARTRIDGE_SIGNATURE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/identity/identity_key.h"
#include "common/identity/public_key.h"

namespace teleclaude::mesh {

inline constexpr std::string_view kFieldAuthorKey = "author_key";
inline constexpr std::string_view kFieldAuthorSignature = "author_signature";
// The domain tag of the signed bytes (CartridgeSignedBytes).
inline constexpr std::string_view kCartridgeSignatureDomain = "teleclaude-mesh cartridge v1";

// The payload fields a cartridge signature covers, as the installer reads
// them (services/installer/cartridge_payload.h); absent optional fields are
// "" (and no dependencies).
struct CartridgeStatement {
  std::string author;
  std::string name;
  std::string version;
  std::string runtime;
  std::string entry_point;
  std::string event_type;
  std::string description;
  std::vector<std::string> dependencies;
  std::string code_sha256;  // 64 lower-case hex digits: SHA-256 of the decoded source
};

// The two payload members, decoded.
struct CartridgeSignature {
  PublicKey author_key;
  Signature signature;
};

// The signed bytes: the transcript (common/identity/transcript.h)
// "teleclaude-mesh cartridge v1" [author, name, version, runtime,
// entry_point, event_type, description, dependencies, SHA-256 (32 bytes),
// author public key (32 bytes)], where `dependencies` is itself the
// concatenation of each dependency as 8-byte big-endian length + bytes.
// INVALID_ARGUMENT "code_sha256: ..." when code_sha256 is not 64 lower-case
// hex digits.
absl::StatusOr<std::string> CartridgeSignedBytes(const CartridgeStatement& statement,
                                                 const PublicKey& author_key);

// Signs `statement` with this computer's key (the author's). Errors as
// CartridgeSignedBytes.
absl::StatusOr<CartridgeSignature> SignCartridge(const CartridgeStatement& statement,
                                                 const IdentityKey& key);

// The values of the two payload members.
std::string AuthorKeyValue(const CartridgeSignature& signature);
std::string AuthorSignatureValue(const CartridgeSignature& signature);

// Decodes the two members as found in the payload (nullopt = absent or
// null). nullopt when both are absent: an unsigned cartridge (never
// activated automatically). INVALID_ARGUMENT "<member>: ..." when only one
// is present, author_key is not a usable public key in base64, or
// author_signature is not "v1:" + base64 of 64 bytes.
absl::StatusOr<std::optional<CartridgeSignature>> DecodeCartridgeSignature(
    std::optional<std::string_view> author_key, std::optional<std::string_view> author_signature);

// Checks a decoded signature against the key pinned for statement.author
// (`pinned_author_key`, from membership; the caller has none for an
// unknown author and must treat the cartridge as unverified). OK when
// author_key is the pinned key and the signature verifies;
// PERMISSION_DENIED "author_key: ..." when author_key is not the pinned key
// (signed by another computer, or the author's key changed);
// UNAUTHENTICATED "author_signature: ..." when the signature does not verify
// (a field, the code or the author was altered); INVALID_ARGUMENT as
// CartridgeSignedBytes.
absl::Status VerifyCartridgeSignature(const CartridgeStatement& statement,
                                      const CartridgeSignature& signature,
                                      const PublicKey& pinned_author_key);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_MESH_CARTRIDGE_SIGNATURE_H_
