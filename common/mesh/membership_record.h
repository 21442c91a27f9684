// What this computer remembers about one other computer of the mesh: one row
// of membership.db (schema and state rules: doc/membership.md). Written only
// by ingress (MembershipWriter), read by both services through a
// MembershipSnapshot. Value types and pure functions; thread-compatible.
#ifndef TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_RECORD_H_
#define TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_RECORD_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "common/identity/fingerprint.h"
#include "common/identity/public_key.h"

namespace teleclaude::mesh {

// doc/membership.md "States".
enum class MemberState {
  kLive,       // its heartbeat was there at the last read (and not "stopping")
  kAway,       // known, heartbeat lapsed or "stopping": still a destination
               // and still judged by its record, for --peer_retention
  kForgotten,  // by a person (telec peers forget) or when away > retention:
               // neither a destination nor trusted until it heartbeats again
  kKeyChanged  // reserved for pinned keys (doc/security.md §6): written only
               // once heartbeats are verified; never a destination
};
// "live", "away", "forgotten", "key_changed" (the database's spelling).
std::string_view MemberStateName(MemberState state);
// The inverse; nullopt for any other text.
std::optional<MemberState> ParseMemberState(std::string_view name);

// Who ended a membership: a person (telec peers forget NAME) or the
// retention period (away longer than --peer_retention).
enum class ForgottenBy { kPerson, kRetention };
std::string_view ForgottenByName(ForgottenBy by);  // "person" / "retention"
std::optional<ForgottenBy> ParseForgottenBy(std::string_view name);

// How a pinned key came to be pinned (doc/security.md §6).
enum class KeySource { kFirstUse, kProvisioned };
std::string_view KeySourceName(KeySource source);  // "first_use" / "provisioned"
std::optional<KeySource> ParseKeySource(std::string_view name);

struct MemberRecord {
  std::string name;
  // The cluster its last heartbeat declared; nullopt = none (Python peers).
  std::optional<std::string> cluster;
  MemberState state = MemberState::kLive;
  absl::Time state_since = absl::UnixEpoch();  // when `state` began
  // When a heartbeat of it was first read (again, after a person forgot it).
  absl::Time first_seen = absl::UnixEpoch();
  // When this computer last read a heartbeat value of it it had not seen
  // before (this computer's clock; retention counts from here).
  absl::Time last_seen = absl::UnixEpoch();
  // The `last_seen` text of its last heartbeat, as it sent it (its clock):
  // a heartbeat with the same text is not a new one.
  std::string heartbeat_last_seen;
  bool stopping = false;                    // its last heartbeat said "stopping" (a clean stop)
  std::optional<ForgottenBy> forgotten_by;  // set iff state == kForgotten

  // Identity (issue 14; doc/security.md §10.1). Empty until heartbeats are
  // verified: nothing writes these yet.
  std::optional<PublicKey> public_key;     // the pinned key
  std::optional<Fingerprint> fingerprint;  // of the pin (alone: provisioned, no key seen yet)
  std::optional<KeySource> key_source;
  std::optional<PublicKey> pending_public_key;  // a changed key awaiting a person
  bool verified = false;                        // its last heartbeat was signed by the pinned key
};

// Whether `record` is known and not forgotten: live, or away for less than
// `retention` at `now` (last_seen + retention > now).
bool IsRemembered(const MemberRecord& record, absl::Time now, absl::Duration retention);

// Whether `record` is away and its retention is over at `now`.
bool RetentionOver(const MemberRecord& record, absl::Time now, absl::Duration retention);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_RECORD_H_
