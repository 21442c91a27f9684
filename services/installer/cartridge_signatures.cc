#include "services/installer/cartridge_signatures.h"

#include <optional>
#include <utility>

#include "common/base/show_bytes.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/identity/fingerprint.h"
#include "common/json/json_text.h"
#include "common/mesh/cartridge_signature.h"

namespace teleclaude::mesh {
namespace {

SignatureCheck Outcome(SignatureStatus status, std::string message, std::string fingerprint) {
  return SignatureCheck{status, std::move(message), std::move(fingerprint)};
}

}  // namespace

absl::StatusOr<std::string> SignCartridgePayload(std::string_view payload_json,
                                                 const IdentityKey& key,
                                                 std::string_view computer_name,
                                                 int64_t max_cartridge_bytes) {
  TM_ASSIGN_OR_RETURN(CartridgeCandidate candidate,
                      ParseCartridgePayload(payload_json, max_cartridge_bytes, computer_name));
  if (candidate.author != computer_name) {
    return absl::PermissionDeniedError(Cat("author: ", ShowBytes(candidate.author, 64),
                                           " is not this computer (", computer_name,
                                           "); a computer signs only the cartridges it authors"));
  }
  TM_ASSIGN_OR_RETURN(CartridgeSignature signature, SignCartridge(StatementOf(candidate), key));
  TM_ASSIGN_OR_RETURN(std::string out, json::SetMember(payload_json, kFieldAuthorKey,
                                                       json::Quote(AuthorKeyValue(signature))));
  return json::SetMember(out, kFieldAuthorSignature, json::Quote(AuthorSignatureValue(signature)));
}

CartridgeSignatures::CartridgeSignatures(Options options, std::shared_ptr<const IdentityKey> key)
    : options_(std::move(options)), key_(std::move(key)) {}

absl::StatusOr<std::string> CartridgeSignatures::Sign(std::string_view payload_json) const {
  if (key_ == nullptr) {
    return absl::FailedPreconditionError(
        "this installer has no identity key; start it with a --data_dir holding identity.key");
  }
  return SignCartridgePayload(payload_json, *key_, options_.computer_name,
                              options_.max_cartridge_bytes);
}

SignatureCheck CartridgeSignatures::Check(const CartridgeCandidate& c) {
  if (!c.signature.has_value()) {
    return Outcome(SignatureStatus::kUnsigned,
                   "the payload carries no author_key / author_signature; nothing proves who "
                   "wrote it",
                   "");
  }
  const CartridgeSignature& signature = *c.signature;
  std::string fingerprint = Fingerprint::Of(signature.author_key).ToString();
  const std::string author = ShowBytes(c.author, 64);

  // The key this computer holds for the author.
  std::optional<PublicKey> pinned;
  std::string pin_source;
  if (c.author == options_.computer_name) {
    if (key_ == nullptr) {
      return Outcome(SignatureStatus::kUnknownAuthor,
                     Cat("author ", author, " is this computer, which has no identity key"),
                     fingerprint);
    }
    pinned = key_->public_key();
    pin_source = "this computer's own key";
  } else {
    std::optional<MemberRecord> record;
    {
      absl::MutexLock lock(&mu_);
      absl::Status status = absl::OkStatus();
      if (store_ == nullptr) {
        absl::StatusOr<std::unique_ptr<MembershipStore>> opened =
            MembershipStore::OpenReadOnly(options_.membership_db_path);
        if (opened.ok()) {
          store_ = *std::move(opened);
        } else {
          status = opened.status();
        }
      }
      if (store_ != nullptr) {
        absl::StatusOr<std::vector<MemberRecord>> records = store_->LoadAll();
        if (records.ok()) {
          for (MemberRecord& r : *records) {
            if (r.name == c.author) record = std::move(r);
          }
        } else {
          status = records.status();
          store_.reset();  // reopened at the next check
        }
      }
      if (!status.ok()) {
        return Outcome(SignatureStatus::kUnknownAuthor,
                       Cat("no key for author ", author, " could be read: ", status.message()),
                       fingerprint);
      }
    }
    if (!record.has_value() || record->state == MemberState::kForgotten) {
      return Outcome(SignatureStatus::kUnknownAuthor,
                     Cat("no key is pinned for author ", author,
                         record.has_value() ? " (forgotten)" : " (not a known computer)"),
                     fingerprint);
    }
    if (record->public_key.has_value()) {
      pinned = record->public_key;
      pin_source = "the key pinned for it";
    } else if (record->fingerprint.has_value()) {
      // Provisioned by fingerprint, no signed heartbeat seen yet: a key with
      // that fingerprint is the pinned one (doc/security.md §4.2).
      if (!(Fingerprint::Of(signature.author_key) == *record->fingerprint)) {
        return Outcome(SignatureStatus::kKeyMismatch,
                       Cat("author_key: ", fingerprint, " is not the key provisioned for author ",
                           author, " (", record->fingerprint->ToString(), ")"),
                       fingerprint);
      }
      pinned = signature.author_key;
      pin_source = "the fingerprint provisioned for it";
    } else {
      return Outcome(SignatureStatus::kUnknownAuthor,
                     Cat("no key is pinned for author ", author,
                         " (known, but never seen with a signed heartbeat)"),
                     fingerprint);
    }
  }
  absl::Status verified = VerifyCartridgeSignature(StatementOf(c), signature, *pinned);
  if (verified.ok()) {
    return Outcome(
        SignatureStatus::kVerified,
        Cat("signed by author ", author, " with key ", fingerprint, " (", pin_source, ")"),
        fingerprint);
  }
  const SignatureStatus status = absl::IsPermissionDenied(verified)
                                     ? SignatureStatus::kKeyMismatch
                                     : SignatureStatus::kBadSignature;
  return Outcome(status, std::string(verified.message()), fingerprint);
}

}  // namespace teleclaude::mesh
