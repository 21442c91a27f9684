#include "services/ingress/message_authenticator.h"

#include <utility>

#include "common/base/strings.h"
#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

AuthVerdict Refuse(std::string_view reason, std::string detail) {
  AuthVerdict v;
  v.reason = std::string(reason);
  v.detail = std::move(detail);
  return v;
}

}  // namespace

MessageAuthenticator::MessageAuthenticator(Options options, MembershipView* membership,
                                           PairKeyCache* keys)
    : options_(std::move(options)),
      unsigned_ok_(options_.accept_unsigned_from.begin(), options_.accept_unsigned_from.end()),
      membership_(membership),
      keys_(keys) {
  CHECK(membership_ != nullptr);
  CHECK(keys_ != nullptr);
}

std::shared_ptr<const MembershipSnapshot> MessageAuthenticator::RefreshIfDue() const {
  const int64_t now = absl::ToUnixNanos(absl::Now());
  int64_t last = last_refresh_ns_.load();
  if (now - last < absl::ToInt64Nanoseconds(options_.refresh_on_miss_every) ||
      !last_refresh_ns_.compare_exchange_strong(last, now)) {
    return nullptr;
  }
  return membership_->Refresh();
}

AuthVerdict MessageAuthenticator::Authenticate(const MeshMessage& message, absl::Time now) const {
  bool no_pin = false;
  AuthVerdict verdict = Judge(message, *membership_->Snapshot(), now, &no_pin);
  if (!verdict.admitted && no_pin) {
    // Its first signed heartbeat may be newer than the last read.
    if (std::shared_ptr<const MembershipSnapshot> fresh = RefreshIfDue(); fresh != nullptr) {
      verdict = Judge(message, *fresh, now, &no_pin);
    }
  }
  return verdict;
}

AuthVerdict MessageAuthenticator::Judge(const MeshMessage& message,
                                        const MembershipSnapshot& snapshot, absl::Time now,
                                        bool* no_pin) const {
  *no_pin = false;
  absl::StatusOr<std::optional<MeshMessageAuth>> auth = DecodeMeshMessageAuth(message);
  if (!auth.ok()) return Refuse("malformed", std::string(ToStd(auth.status().message())));
  const std::string& sender = *message.source_computer;
  const MemberRecord* record = snapshot.Find(sender);
  if (record != nullptr && record->state == MemberState::kKeyChanged) {
    return Refuse(
        kReasonKeyChanged,
        Cat(sender, " heartbeats with a key other than the one pinned for it (",
            record->fingerprint ? record->fingerprint->ToString() : "?",
            "); its messages are refused until a person runs `telec peers trust ", sender, "`"));
  }
  const bool pinned = record != nullptr && record->public_key.has_value() &&
                      record->state != MemberState::kForgotten;
  if (pinned) {
    if (!auth->has_value()) {
      return Refuse(kReasonUnauthenticated,
                    Cat(sender, " signs its messages; this one is not signed (no sent_at/auth)"));
    }
    absl::StatusOr<std::shared_ptr<const PairKeys>> keys = keys_->Get(sender, *record->public_key);
    if (!keys.ok()) {
      return Refuse(kReasonUnauthenticated, Cat("auth: ", ToStd(keys.status().message())));
    }
    absl::Status verified =
        VerifyMeshMessageAuth((*keys)->receive, options_.stream, message, **auth);
    if (!verified.ok()) {
      return Refuse(kReasonUnauthenticated,
                    Cat(ToStd(verified.message()), " (claimed sender ", sender, ", pinned key ",
                        record->fingerprint ? record->fingerprint->ToString() : "?", ")"));
    }
    absl::Status fresh = CheckTimeWindow(kFieldSentAt, absl::FromUnixMillis((*auth)->sent_at_ms),
                                         now, options_.window);
    if (!fresh.ok()) return Refuse(kReasonStale, std::string(ToStd(fresh.message())));
    AuthVerdict ok;
    ok.admitted = true;
    return ok;
  }
  *no_pin = true;
  if (unsigned_ok_.contains(sender) && !auth->has_value()) {
    AuthVerdict ok;
    ok.admitted = true;
    ok.unsigned_sender = true;
    return ok;
  }
  if (record != nullptr && record->pending_public_key.has_value()) {
    return Refuse(kReasonUnauthenticated,
                  Cat("no pinned key for ", sender, ": its key ",
                      Fingerprint::Of(*record->pending_public_key).ToString(),
                      " is not in --trusted_keys; `telec peers trust ", sender, "` trusts it"));
  }
  if (auth->has_value()) {
    return Refuse(kReasonUnauthenticated,
                  Cat("no pinned key for ", sender,
                      ": no signed heartbeat of it has been read, so its auth cannot be checked"));
  }
  return Refuse(kReasonUnauthenticated,
                Cat("no pinned key for ", sender,
                    " and the message is not signed; list a Python peer in "
                    "--accept_unsigned_from to admit its unsigned messages"));
}

void AddAuthFlags(const AuthVerdict& verdict, TrustDecision* decision) {
  if (!verdict.unsigned_sender) return;
  if (decision->outcome == TrustOutcome::kAccept) decision->outcome = TrustOutcome::kFlag;
  decision->flags.insert(decision->flags.begin(), std::string(kFlagUnsigned));
}

}  // namespace teleclaude::mesh
