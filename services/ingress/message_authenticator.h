// The first judgement of a mesh message (doc/security.md §10.3,
// doc/ingress.md "Authentication"): does it come from the computer it names?
// Between MeshEntryDecoder's checks of the fields and the envelope parser:
//   1. the sender's record in membership's snapshot: a pinned key and an
//      `auth` → the MAC with the pair key derived from the PINNED key
//      (PairKeyCache), over sender, recipient stream, message id, sent_at
//      and the payload exactly as sent; a pinned key and no `auth`, or no
//      pinned key and a name not in --accept_unsigned_from →
//      `unauthenticated`; a key_changed record → `key_changed`; no pinned
//      key, a name in --accept_unsigned_from, no `auth` → admitted, flagged
//      "unsigned" (doc/security.md §7);
//   2. `sent_at` within kMessageSendTimeWindow of this computer's clock →
//      else `stale`.
// Only then does egress de-duplicate by message id, so nobody can pre-empt
// another computer's ids. A sender without a pinned key may have heartbeated
// since the last membership read: before refusing, membership is refreshed
// at most once per refresh_on_miss_every.
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_MESSAGE_AUTHENTICATOR_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_MESSAGE_AUTHENTICATOR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "common/identity/pair_key_cache.h"
#include "common/mesh/membership_view.h"
#include "common/mesh/mesh_message.h"
#include "common/mesh/time_window.h"
#include "services/ingress/trust_evaluator.h"

namespace teleclaude::mesh {

// Rejection reasons of this stage (the `reason` of mesh.event.rejected).
inline constexpr std::string_view kReasonUnauthenticated = "unauthenticated";
inline constexpr std::string_view kReasonStale = "stale";
inline constexpr std::string_view kReasonKeyChanged = "key_changed";
// The trust flag of an admitted unsigned message.
inline constexpr std::string_view kFlagUnsigned = "unsigned";

// What the stage decided about one message. Value type.
struct AuthVerdict {
  bool admitted = false;
  bool unsigned_sender = false;  // admitted without auth (flag "unsigned")
  std::string reason;            // when refused: one of the reasons above, or "malformed"
  std::string detail;            // when refused: one line naming the field or the sender
};

// Thread-safe: Authenticate is const; the view and the cache are.
class MessageAuthenticator {
 public:
  struct Options {
    std::string self_name;
    std::string stream;  // "messages:{self_name}": the MAC covers it
    std::vector<std::string> accept_unsigned_from;
    TimeWindow window = kMessageSendTimeWindow;
    absl::Duration refresh_on_miss_every = absl::Milliseconds(50);
  };

  // `membership` and `keys` are not owned and must outlive this object.
  MessageAuthenticator(Options options, MembershipView* membership, PairKeyCache* keys);

  // `message` has passed MeshEntryDecoder's checks (type, payload,
  // source_computer valid and not this computer).
  AuthVerdict Authenticate(const MeshMessage& message, absl::Time now) const;

 private:
  AuthVerdict Judge(const MeshMessage& message, const MembershipSnapshot& snapshot, absl::Time now,
                    bool* no_pin) const;
  std::shared_ptr<const MembershipSnapshot> RefreshIfDue() const;

  const Options options_;
  const std::set<std::string, std::less<>> unsigned_ok_;
  MembershipView* const membership_;
  PairKeyCache* const keys_;
  mutable std::atomic<int64_t> last_refresh_ns_{0};
};

// Adds "unsigned" to `decision`'s flags when the message was admitted
// unsigned: an accept becomes a flag (payload._trust_flags), other outcomes
// keep theirs.
void AddAuthFlags(const AuthVerdict& verdict, TrustDecision* decision);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_MESSAGE_AUTHENTICATOR_H_
