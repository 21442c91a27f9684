// Pins a computer's key in a real membership.db, as ingress will once it
// reads signed heartbeats (doc/security.md §6, §10.1) — for tests of what
// reads pins (the installer's cartridge signatures) before that wiring
// exists. The file is created with MembershipStore's own migrations; the row
// is written with SQL on the schema of doc/membership.md: key source
// "provisioned", state away since now (a computer whose heartbeat this test
// does not write). An existing row keeps its state and gets the key.
#ifndef TELECLAUDE_MESH_TESTS_SUPPORT_MEMBERSHIP_PINS_H_
#define TELECLAUDE_MESH_TESTS_SUPPORT_MEMBERSHIP_PINS_H_

#include <filesystem>
#include <string_view>

#include "absl/status/status.h"
#include "common/identity/public_key.h"

namespace teleclaude::mesh::testing {

// Pins `key` for computer `name` in `membership_db` (created when missing).
// `fingerprint_only`: records the fingerprint and no key (a provisioned pin
// before the computer's first signed heartbeat).
absl::Status PinPeerKey(const std::filesystem::path& membership_db, std::string_view name,
                        const PublicKey& key, bool fingerprint_only = false);

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SUPPORT_MEMBERSHIP_PINS_H_
