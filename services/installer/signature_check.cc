#include "services/installer/signature_check.h"

#include "common/base/strings.h"

namespace teleclaude::mesh {

std::string_view SignatureStatusName(SignatureStatus status) {
  switch (status) {
    case SignatureStatus::kVerified:
      return "verified";
    case SignatureStatus::kUnsigned:
      return "unsigned";
    case SignatureStatus::kBadSignature:
      return "bad_signature";
    case SignatureStatus::kUnknownAuthor:
      return "unknown_author";
    case SignatureStatus::kKeyMismatch:
      return "key_mismatch";
  }
  return "unsigned";
}

std::optional<SignatureStatus> ParseSignatureStatus(std::string_view name) {
  for (SignatureStatus s :
       {SignatureStatus::kVerified, SignatureStatus::kUnsigned, SignatureStatus::kBadSignature,
        SignatureStatus::kUnknownAuthor, SignatureStatus::kKeyMismatch}) {
    if (SignatureStatusName(s) == name) return s;
  }
  return std::nullopt;
}

std::string UnverifiedNote(const SignatureCheck& check) {
  if (check.verified()) return "";
  return Cat("UNVERIFIED (", SignatureStatusName(check.status), ": ", check.message, ")");
}

}  // namespace teleclaude::mesh
