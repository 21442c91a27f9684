// libFuzzer target: stream entries of `messages:beta` through a real
// MessageAuthenticator (services/ingress/message_authenticator.h) — the
// decode of sent_at/auth, the MAC with the pair key of the PINNED key, the
// send-time window — both alone and inside MeshEntryDecoder, as ingress runs
// them. The input is split into fields as in fuzz_mesh_entry
// (tests/fuzz/fuzz_fields.h). Fixed membership (tests/fuzz/fuzz_keys.h):
//   alpha  live, cluster x, its key pinned (RFC 8032 test 1), also listed in
//          --accept_unsigned_from (a pin must win over the list);
//   py     no key, listed in --accept_unsigned_from (a Python peer);
//   kc     key_changed (a pin, another key pending);
//   held   its key pending, not pinned (--trusted_keys, §6.3);
//   gone   forgotten by a person, with the key it had;
// anyone else is unknown. Checked for every entry, with a fixed clock:
//   - a refusal has a known reason and a one-line detail naming the sender
//     (sent_at when stale);
//   - the verdict is exactly the one the rules of doc/security.md §10.3
//     give, computed here from the library's DecodeMeshMessageAuth,
//     VerifyMeshMessageAuth and CheckTimeWindow (admitted signed ⇔ alpha,
//     MAC of K(alpha->beta), sent_at in the window; admitted unsigned ⇔ py
//     without sent_at/auth; kc always key_changed);
//   - the entry's payload and message id authenticated anew by alpha are
//     admitted, and refused once a payload byte, sent_at, the message id or
//     the sender changes;
//   - MeshEntryDecoder with the authenticator never yields an event the
//     authenticator refused, and stamps "unsigned" exactly on py's.
// Any violation aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/utf8.h"
#include "common/identity/pair_key_cache.h"
#include "common/mesh/membership_view.h"
#include "common/mesh/mesh_message.h"
#include "common/mesh/peer_name.h"
#include "common/mesh/time_window.h"
#include "services/ingress/mesh_entry_decoder.h"
#include "services/ingress/message_authenticator.h"
#include "tests/fuzz/fuzz_fields.h"
#include "tests/fuzz/fuzz_keys.h"

namespace {

using namespace teleclaude::mesh;

constexpr std::string_view kSelf = "beta";
constexpr std::string_view kStream = "messages:beta";
// The fixed clock: sent_at of the seeds (2025-03-01T12:34:56.789Z).
constexpr int64_t kNowMs = 1740832496789;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_mesh_entry_auth: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// A snapshot that stays as it was made; Refresh (the authenticator's
// re-read before refusing an unknown sender) returns it again.
class FixedMembership : public MembershipView {
 public:
  explicit FixedMembership(std::shared_ptr<const MembershipSnapshot> snapshot)
      : snapshot_(std::move(snapshot)) {}
  std::shared_ptr<const MembershipSnapshot> Snapshot() const override { return snapshot_; }
  std::shared_ptr<const MembershipSnapshot> Refresh() override { return snapshot_; }

 private:
  const std::shared_ptr<const MembershipSnapshot> snapshot_;
};

MemberRecord Record(std::string name, MemberState state) {
  MemberRecord r;
  r.name = std::move(name);
  r.cluster = "x";
  r.state = state;
  r.state_since = r.first_seen = r.last_seen = absl::FromUnixMillis(kNowMs);
  if (state == MemberState::kForgotten) r.forgotten_by = ForgottenBy::kPerson;
  return r;
}

std::shared_ptr<const MembershipSnapshot> Membership() {
  const PublicKey& alpha_key = fuzz::AlphaKey().public_key();
  const PublicKey& other_key = fuzz::BetaKey().public_key();  // any key not alpha's
  MemberRecord alpha = Record("alpha", MemberState::kLive);
  alpha.public_key = alpha_key;
  alpha.fingerprint = Fingerprint::Of(alpha_key);
  alpha.key_source = KeySource::kFirstUse;
  alpha.verified = true;
  MemberRecord py = Record("py", MemberState::kLive);
  py.cluster.reset();
  MemberRecord kc = Record("kc", MemberState::kKeyChanged);
  kc.public_key = alpha_key;
  kc.fingerprint = Fingerprint::Of(alpha_key);
  kc.key_source = KeySource::kFirstUse;
  kc.pending_public_key = other_key;
  MemberRecord held = Record("held", MemberState::kLive);
  held.pending_public_key = alpha_key;
  MemberRecord gone = Record("gone", MemberState::kForgotten);
  gone.public_key = alpha_key;
  gone.fingerprint = Fingerprint::Of(alpha_key);
  gone.key_source = KeySource::kFirstUse;
  return std::make_shared<const MembershipSnapshot>(
      std::vector<MemberRecord>{std::move(alpha), std::move(gone), std::move(held), std::move(kc),
                                std::move(py)},
      MembershipSnapshot::Self{std::string(kSelf), "x", absl::Hours(24)},
      absl::FromUnixMillis(kNowMs));
}

struct Stage {
  Stage()
      : membership(Membership()),
        keys(&fuzz::BetaKey(), std::string(kSelf)),
        authenticator(Options(kMessageSendTimeWindow), &membership, &keys),
        // In the decoder the clock is absl::Now(): a window wide enough
        // that every sent_at the fixed clock admits is admitted there too.
        wide_authenticator(Options({absl::Hours(24 * 365 * 100), absl::Minutes(10)}), &membership,
                           &keys),
        decoder({std::string(kSelf), int64_t{1} << 20, &wide_authenticator}) {}

  static MessageAuthenticator::Options Options(TimeWindow window) {
    MessageAuthenticator::Options o;
    o.self_name = std::string(kSelf);
    o.stream = std::string(kStream);
    o.accept_unsigned_from = {"py", "alpha"};
    o.window = window;
    return o;
  }

  FixedMembership membership;
  PairKeyCache keys;
  MessageAuthenticator authenticator;
  MessageAuthenticator wide_authenticator;
  MeshEntryDecoder decoder;
};

const Stage& TheStage() {
  static const Stage* stage = new Stage();
  return *stage;
}

// What the rules say about `m` at the fixed clock, from the library's own
// pieces: {admitted, unsigned, reason}.
struct Expected {
  bool admitted = false;
  bool unsigned_sender = false;
  std::string reason;
};

Expected Rules(const MeshMessage& m) {
  absl::StatusOr<std::optional<MeshMessageAuth>> auth = DecodeMeshMessageAuth(m);
  if (!auth.ok()) return {false, false, "malformed"};
  const std::string& sender = *m.source_computer;
  if (sender == "kc") return {false, false, std::string(kReasonKeyChanged)};
  if (sender == "alpha") {
    if (!auth->has_value()) return {false, false, std::string(kReasonUnauthenticated)};
    if (!VerifyMeshMessageAuth(fuzz::BetaWithAlpha().receive, kStream, m, **auth).ok()) {
      return {false, false, std::string(kReasonUnauthenticated)};
    }
    if (!CheckTimeWindow(kFieldSentAt, absl::FromUnixMillis((*auth)->sent_at_ms),
                         absl::FromUnixMillis(kNowMs), kMessageSendTimeWindow)
             .ok()) {
      return {false, false, std::string(kReasonStale)};
    }
    return {true, false, ""};
  }
  if (sender == "py" && !auth->has_value()) return {true, true, ""};
  return {false, false, std::string(kReasonUnauthenticated)};
}

void CheckVerdict(const MeshMessage& m, const AuthVerdict& v, const char* what) {
  const Expected want = Rules(m);
  if (v.admitted != want.admitted || v.unsigned_sender != want.unsigned_sender ||
      (!v.admitted && v.reason != want.reason)) {
    Fail(what, "sender " + *m.source_computer + ": got " +
                   (v.admitted ? (v.unsigned_sender ? "admitted unsigned" : "admitted")
                               : "refused " + v.reason + " (" + v.detail + ")") +
                   ", the rules say " +
                   (want.admitted ? (want.unsigned_sender ? "admitted unsigned" : "admitted")
                                  : "refused " + want.reason));
  }
  if (v.admitted) {
    if (!v.reason.empty() || !v.detail.empty()) Fail("admitted with a reason", v.reason);
    return;
  }
  if (v.detail.empty()) Fail("refusal without detail", v.reason);
  if (v.detail.find('\n') != std::string::npos || !IsValidUtf8(v.detail)) {
    Fail("refusal detail is not one line of UTF-8", v.detail);
  }
  if (v.reason == kReasonStale) {
    if (!v.detail.starts_with("sent_at")) Fail("stale refusal does not name sent_at", v.detail);
  } else if (v.reason != "malformed" && v.detail.find(*m.source_computer) == std::string::npos) {
    Fail("refusal does not name the sender", v.detail);
  }
}

AuthVerdict Judge(const MeshMessage& m) {
  return TheStage().authenticator.Authenticate(m, absl::FromUnixMillis(kNowMs));
}

// What MeshEntryDecoder checks before it asks the authenticator.
bool ReachesAuthenticator(const MeshMessage& m) {
  return m.type == kMeshEventType && m.payload.has_value() && m.source_computer.has_value() &&
         IsValidUtf8(*m.source_computer) &&
         ValidatePeerName("source_computer", *m.source_computer).ok() &&
         *m.source_computer != kSelf;
}

// The entry's content authenticated anew by alpha at the fixed clock:
// admitted; each change refused.
void CheckFreshlySigned(const std::string& payload, std::string message_id) {
  if (message_id.empty()) message_id = "alpha/x/beta";
  const MeshMessage fresh = ParseMeshMessage(EncodeAuthenticatedMeshMessage(
      fuzz::AlphaWithBeta().send, kStream, payload, "alpha", message_id, kNowMs));
  const AuthVerdict ok = Judge(fresh);
  if (!ok.admitted || ok.unsigned_sender) Fail("alpha's own message refused", ok.detail);
  std::vector<std::pair<const char*, MeshMessage>> changed;
  if (!payload.empty()) {
    MeshMessage m = fresh;
    (*m.payload)[m.payload->size() / 2] ^= 0x01;
    changed.emplace_back("tampered payload", std::move(m));
  }
  {
    MeshMessage m = fresh;
    m.sent_at = std::to_string(kNowMs - 1);
    changed.emplace_back("moved sent_at", std::move(m));
  }
  {
    MeshMessage m = fresh;
    *m.message_id += "x";
    changed.emplace_back("changed message id", std::move(m));
  }
  for (const char* other : {"held", "gone", "kc", "py", "zulu"}) {
    MeshMessage m = fresh;
    m.source_computer = other;
    changed.emplace_back("claimed by another sender", std::move(m));
  }
  {
    MeshMessage m = fresh;
    m.auth.reset();
    m.sent_at.reset();
    changed.emplace_back("auth stripped (alpha is pinned, its listing does not count)",
                         std::move(m));
  }
  for (auto& [what, m] : changed) {
    const AuthVerdict v = Judge(m);
    if (v.admitted) Fail(what, payload);
    CheckVerdict(m, v, what);
  }
  // Out of the window on both sides.
  for (int64_t sent_at :
       {kNowMs - absl::ToInt64Milliseconds(kMessageSendTimeWindow.max_past) - 1,
        kNowMs + absl::ToInt64Milliseconds(kMessageSendTimeWindow.max_future) + 1}) {
    const MeshMessage m = ParseMeshMessage(EncodeAuthenticatedMeshMessage(
        fuzz::AlphaWithBeta().send, kStream, payload, "alpha", message_id, sent_at));
    const AuthVerdict v = Judge(m);
    if (v.admitted || v.reason != kReasonStale)
      Fail("sent_at out of the window not stale", v.reason);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Stage& stage = TheStage();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const StreamEntry entry{"1740832496789-0", fuzz::FieldsFromBytes(input)};
  const MeshMessage m = ParseMeshMessage(entry.fields);

  std::optional<AuthVerdict> verdict;
  if (ReachesAuthenticator(m)) {
    verdict = Judge(m);
    CheckVerdict(m, *verdict, "verdict differs from the rules");
  }

  const DecodedEntry d = stage.decoder.Decode(entry);
  if (d.kind == DecodedEntry::Kind::kEvent) {
    if (!verdict.has_value()) Fail("event from an entry that never reached the authenticator", "");
    // The decoder's window contains the fixed clock's: what it admits at
    // the fixed clock it admits too, and refused at the fixed clock it may
    // admit only for being stale there.
    if (!verdict->admitted && verdict->reason != kReasonStale) {
      Fail("decoder admitted what the authenticator refused", verdict->detail);
    }
    if (d.event.auth.unsigned_sender != (d.event.source_computer == "py")) {
      Fail("unsigned flag on the wrong sender", d.event.source_computer);
    }
    if (d.event.source_computer != "alpha" && d.event.source_computer != "py") {
      Fail("event from a sender without a pinned key", d.event.source_computer);
    }
  } else if (d.kind == DecodedEntry::Kind::kRejected && verdict.has_value() && verdict->admitted &&
             d.rejection.reason != kReasonMalformed) {
    // Admitted at the fixed clock, so admitted by the wider window: only
    // the envelope itself may still be refused.
    Fail("decoder refused an authenticated entry", d.rejection.reason + ": " + d.rejection.detail);
  }

  if (m.payload.has_value()) CheckFreshlySigned(*m.payload, m.message_id.value_or(""));
  return 0;
}
