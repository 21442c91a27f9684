// The heartbeat a computer keeps alive in Redis (DESIGN §3.4, doc/wire.md §6,
// doc/security.md "Signed heartbeat"): key `computer:{name}:heartbeat`, SETEX
// with a TTL, value JSON in Python's default json.dumps style, e.g.
//   {"computer_name": "alpha", "last_seen": "2025-03-01T12:34:56.789012+00:00", "cluster": "x"}
// `cluster` is omitted when the computer has none (Python peers never send
// it). Our computers add `state` (only when stopping) and their identity:
// `public_key`, `fingerprint` and `signature` over the fields that matter;
// Python readers ignore the extra fields. Pure functions; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_MESH_HEARTBEAT_H_
#define TELECLAUDE_MESH_COMMON_MESH_HEARTBEAT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/identity/fingerprint.h"
#include "common/identity/identity_key.h"
#include "common/identity/public_key.h"

namespace teleclaude::mesh {

// What the computer says it is doing. `running` is the default and is not
// written; `stopping` is written by a computer shutting down cleanly.
enum class HeartbeatState { kRunning, kStopping };
// "running" / "stopping".
std::string_view HeartbeatStateName(HeartbeatState state);

// One heartbeat value. Value type.
struct Heartbeat {
  std::string computer_name;
  std::string last_seen;               // ISO 8601 as sent
  std::optional<std::string> cluster;  // nullopt = none (or null / "" on the wire)
  HeartbeatState state = HeartbeatState::kRunning;

  friend bool operator==(const Heartbeat&, const Heartbeat&) = default;
};

// Wire field names of the identity part.
inline constexpr std::string_view kHeartbeatFieldState = "state";
inline constexpr std::string_view kHeartbeatFieldPublicKey = "public_key";
inline constexpr std::string_view kHeartbeatFieldFingerprint = "fingerprint";
inline constexpr std::string_view kHeartbeatFieldSignature = "signature";
// The domain tag of the signed bytes (HeartbeatSignedBytes).
inline constexpr std::string_view kHeartbeatSignatureDomain = "teleclaude-mesh heartbeat v1";
// A heartbeat value longer than this is refused by DecodeSignedHeartbeat
// (ours are about 300 bytes).
inline constexpr size_t kMaxHeartbeatBytes = 4096;

// The JSON value TeleClaude writes (keys in the order above, ", " / ": "
// separators, non-ASCII escaped as Python does); `state` only when stopping.
std::string EncodeHeartbeat(const Heartbeat& heartbeat);

// Parses a heartbeat value. Unknown keys are ignored (the identity fields
// too: this is the reader of unsigned heartbeats); `cluster` null or "" is no
// cluster; `state` is stopping only when it is "stopping" (absent or any
// other value: running — an unsigned state is not ours to judge). Errors
// (INVALID_ARGUMENT) name the problem: not JSON (invalid UTF-8 included),
// not an object, `computer_name` missing / not a non-empty string,
// `last_seen` missing / not a string, `cluster` not a string.
absl::StatusOr<Heartbeat> DecodeHeartbeat(std::string_view json);

// The bytes a heartbeat's signature covers: the transcript
// (common/identity/transcript.h) "teleclaude-mesh heartbeat v1"
// [computer_name, cluster or "", last_seen, state name, public key (32
// bytes)].
std::string HeartbeatSignedBytes(const Heartbeat& heartbeat, const PublicKey& key);

// EncodeHeartbeat's value followed by "public_key" (base64),
// "fingerprint" and "signature" ("v1:" + base64) by `key`.
std::string EncodeSignedHeartbeat(const Heartbeat& heartbeat, const IdentityKey& key);
// The same with a signature made elsewhere (re-encoding a received one).
std::string EncodeSignedHeartbeat(const Heartbeat& heartbeat, const PublicKey& key,
                                  const Signature& signature);

// Who signed a heartbeat: the key it carries, whose signature verified.
struct HeartbeatSigner {
  PublicKey public_key;
  Fingerprint fingerprint;
  Signature signature;
  absl::Time last_seen;  // `last_seen` parsed (a naive time is UTC)
};

struct CheckedHeartbeat {
  Heartbeat heartbeat;
  // nullopt: the value carries no identity field at all (a Python peer, or
  // anyone writing in its name): the caller's policy decides.
  std::optional<HeartbeatSigner> signer;
};

// Reads the heartbeat stored under Redis key `key` (what the reader found,
// e.g. by SCAN). In order, INVALID_ARGUMENT "heartbeat: <field>: ..." when:
// the value is longer than kMaxHeartbeatBytes; `key` is not
// "computer:{name}:heartbeat"; the value does not decode (DecodeHeartbeat);
// `computer_name` differs from the key's {name} (a second key claiming a
// computer's name); computer_name or cluster is not a valid name
// (ValidatePeerName, common/mesh/peer_name.h); one identity field is present without the others; a
// signed heartbeat's `state` is not "running" or "stopping"; public_key is
// not a usable key; fingerprint is not public_key's;
// signature is not "v1:" + 64 bytes of base64; last_seen of a signed
// heartbeat is not a date-time. UNAUTHENTICATED "heartbeat: signature: ..."
// when the signature does not verify against public_key over
// HeartbeatSignedBytes.
//
// A valid signature proves only that the holder of public_key wrote these
// fields. The caller must still compare public_key with the key pinned for
// computer_name, and refuse a last_seen that is stale or older than the
// newest it accepted from that computer (a replayed heartbeat).
absl::StatusOr<CheckedHeartbeat> DecodeSignedHeartbeat(std::string_view key,
                                                       std::string_view value);

// "computer:{name}:heartbeat".
std::string HeartbeatKey(std::string_view computer_name);

// The computer name inside a heartbeat key, or nullopt when `key` is not of
// the form "computer:{name}:heartbeat".
std::optional<std::string> ComputerNameFromHeartbeatKey(std::string_view key);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_MESH_HEARTBEAT_H_
