// The outcome of checking a cartridge's author signature against the key
// this computer has for its author (doc/security.md §10.5, recorded in
// installer.db `cartridges.signature`, doc/installer-db.md). Value types and
// pure functions; thread-compatible.
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_SIGNATURE_CHECK_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_SIGNATURE_CHECK_H_

#include <optional>
#include <string>
#include <string_view>

namespace teleclaude::mesh {

enum class SignatureStatus {
  kVerified,       // signed by the key pinned for `author` (or this computer's own)
  kUnsigned,       // no author_key / author_signature (a Python computer, an old publisher)
  kBadSignature,   // the signature does not verify: a field, the code or the author was altered
  kUnknownAuthor,  // no key is pinned for `author` (never seen signed, forgotten)
  kKeyMismatch,    // signed with a key that is not the one pinned for `author`
};

// "verified", "unsigned", "bad_signature", "unknown_author", "key_mismatch"
// (the database's and the RPC's spelling).
std::string_view SignatureStatusName(SignatureStatus status);
// The inverse; nullopt for any other text.
std::optional<SignatureStatus> ParseSignatureStatus(std::string_view name);

struct SignatureCheck {
  SignatureStatus status = SignatureStatus::kUnsigned;
  std::string message;             // one line: whose key, or why not verified
  std::string author_fingerprint;  // of the payload's author_key; "" when unsigned

  // Only a verified cartridge may be activated without a person (L2 / L3).
  bool verified() const { return status == SignatureStatus::kVerified; }
};

// "UNVERIFIED (<status>: <message>)" for what a person reads before
// deciding; "" when verified.
std::string UnverifiedNote(const SignatureCheck& check);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_SIGNATURE_CHECK_H_
