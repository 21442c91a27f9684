// The events the installer emits (through egress, so they are projected and
// watched like any other; DESIGN §1, §5). Each builder returns the envelope
// as mesh JSON text (common/envelope/json_codec.h), ready to be stored in the
// outbox and submitted. Level, domain and visibility come from the catalog
// (all of these types are local). Payload fields per type are listed in
// doc/installer-db.md ("Events"). Thread-safe (immutable after construction).
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_INSTALLER_EVENTS_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_INSTALLER_EVENTS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/catalog/event_catalog.h"
#include "services/installer/cartridge_payload.h"
#include "services/installer/signature_check.h"

namespace teleclaude::mesh {

// What the events say about a cartridge: the candidate's metadata.
class InstallerEvents {
 public:
  // `computer_name` becomes every envelope's `source`.
  explicit InstallerEvents(std::string computer_name);

  // cartridge.install_pending: actionable; approve / reject commands;
  // `reason` (guardian denial or unavailability, an unverified author) only
  // when non-empty; the signature outcome (`signature`, `signature_message`,
  // `author_fingerprint`), and a description that starts "UNVERIFIED" unless
  // the author's signature verified.
  std::string InstallPending(const CartridgeCandidate& c, std::string_view reason,
                             const SignatureCheck& signature) const;
  // cartridge.installed.
  std::string Installed(const CartridgeCandidate& c, std::string_view decided_by) const;
  // cartridge.install_notified (L2 approval, for a human's information).
  std::string InstallNotified(const CartridgeCandidate& c, std::string_view decided_by,
                              std::string_view reason) const;
  // cartridge.rejected.
  std::string Rejected(const CartridgeCandidate& c, std::string_view decided_by,
                       std::string_view reason) const;
  // cartridge.deactivated.
  std::string Deactivated(const CartridgeCandidate& c, std::string_view decided_by,
                          std::string_view reason) const;
  // cartridge.removed: `versions` is how many versions left the registry.
  std::string Removed(const CartridgeCandidate& c, std::string_view decided_by,
                      std::string_view reason, int64_t versions) const;
  // cartridge.suspended.
  std::string Suspended(const CartridgeCandidate& c, std::string_view reason) const;
  // cartridge.install_failed: the payload was refused. `name` is whatever
  // the payload carried (shown, never used as a path).
  std::string InstallFailed(std::string_view name, std::string_view author,
                            std::string_view version, std::string_view source_computer,
                            int64_t published_notification_id, std::string_view field,
                            std::string_view error) const;
  // cartridge.promotion_suggested {cartridge_name, invocation_count}.
  std::string PromotionSuggested(std::string_view cartridge_name, int64_t invocation_count,
                                 int64_t threshold) const;

  const EventCatalog& catalog() const { return catalog_; }

 private:
  std::string Build(std::string_view type, std::string description, std::string_view entity,
                    std::string payload_json, std::string actions_json = "",
                    std::string resolution_shape_json = "") const;

  const std::string computer_name_;
  const EventCatalog catalog_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_INSTALLER_EVENTS_H_
