// Who wrote a cartridge (doc/security.md §10.5): signing this computer's own
// cartridges with its identity key (Installer.SignCartridge, called by
// `telec cartridges publish`), and checking a received cartridge's
// `author_key` / `author_signature` against the key this computer has for
// its `author` before the sovereignty gate decides anything.
//
// The key for an author comes from membership.db (ingress writes it; opened
// here read-only, re-read at every check: cartridges are rare), or is this
// computer's own key when the author is this computer (a computer is not in
// its own membership). Thread-safe.
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_CARTRIDGE_SIGNATURES_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_CARTRIDGE_SIGNATURES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/identity/identity_key.h"
#include "common/mesh/membership_store.h"
#include "services/installer/cartridge_payload.h"
#include "services/installer/signature_check.h"

namespace teleclaude::mesh {

// Signs `payload_json` (a cartridge.published payload) as `computer_name`
// with `key`: parsed as a receiver parses it (ParseCartridgePayload, errors
// INVALID_ARGUMENT naming the field), refused with PERMISSION_DENIED
// "author: ..." unless `author` is `computer_name`, then returned (canonical
// JSON) with `author_key` and `author_signature` set over the statement of
// the parsed candidate; a previous signature is replaced.
absl::StatusOr<std::string> SignCartridgePayload(std::string_view payload_json,
                                                 const IdentityKey& key,
                                                 std::string_view computer_name,
                                                 int64_t max_cartridge_bytes);

class CartridgeSignatures {
 public:
  struct Options {
    std::string computer_name;
    std::string membership_db_path;  // {data_dir}/membership.db
    int64_t max_cartridge_bytes = 262144;
  };
  // `key` is this computer's identity (null: nothing is signed, and a
  // cartridge claiming this computer as author is unknown_author).
  CartridgeSignatures(Options options, std::shared_ptr<const IdentityKey> key);

  // Installer.SignCartridge: SignCartridgePayload with this computer's key.
  // FAILED_PRECONDITION when there is no key.
  absl::StatusOr<std::string> Sign(std::string_view payload_json) const;

  // The signature outcome of `candidate` (never an error: anything that
  // cannot be checked is not verified, and says why):
  //   no signature                               → unsigned;
  //   author is this computer                    → checked against its own key;
  //   author pinned in membership.db with a key  → checked against that key;
  //   pinned by fingerprint only (provisioned,
  //   no heartbeat yet)                          → author_key must have it;
  //   no record, forgotten, no key, or
  //   membership.db unreadable                   → unknown_author.
  // A key other than the pin → key_mismatch; a signature that does not
  // verify → bad_signature.
  SignatureCheck Check(const CartridgeCandidate& candidate);

 private:
  const Options options_;
  const std::shared_ptr<const IdentityKey> key_;
  absl::Mutex mu_;
  std::unique_ptr<MembershipStore> store_ ABSL_GUARDED_BY(mu_);
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_CARTRIDGE_SIGNATURES_H_
