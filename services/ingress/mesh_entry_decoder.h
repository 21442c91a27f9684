// Turns one stream entry of `messages:{me}` into either an event for the trust
// gate or a rejection (DESIGN §3.3, doc/ingress.md "Bad input"). Any bytes in
// any field are handled: the result is always one of the three kinds, never
// a crash, never an error status.
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_MESH_ENTRY_DECODER_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_MESH_ENTRY_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/envelope/envelope.h"
#include "common/redis/redis_client.h"
#include "services/ingress/message_authenticator.h"

namespace teleclaude::mesh {

// Rejection reasons (the `reason` of mesh.event.rejected).
inline constexpr std::string_view kReasonMalformed = "malformed";
inline constexpr std::string_view kReasonTooLarge = "too_large";
inline constexpr std::string_view kReasonReflection = "reflection";
inline constexpr std::string_view kReasonUntrusted = "untrusted";
inline constexpr std::string_view kReasonQuarantined = "quarantined";

// How many bytes of the offending input a rejection carries.
inline constexpr size_t kRawLimit = 256;
// A `message_id` longer than this once scoped to its sender ("{source}:" +
// it, unless it starts with that or "{source}/") is not used (the entry id
// stands in).
inline constexpr size_t kMaxMessageIdBytes = 1024;

// Why an entry was refused, and what of it is known. Every string is valid
// UTF-8 (sanitised from the input).
struct Rejection {
  std::string reason;  // one of the kReason* above
  std::string detail;  // the decoder's message / the gate's explanation
  std::optional<std::string> source_computer;
  std::optional<std::string> event_type;
  std::string raw;  // the first kRawLimit bytes of the payload (or the entry)
};

// A decoded mesh event ready for the trust gate.
struct MeshEvent {
  EventEnvelope envelope;  // payload stamped with _mesh_source
  std::string source_computer;
  // The entry's `message_id` when it is usable and scoped to the sender
  // ("{source}/..." or "{source}:..."), "{source}:{message_id}" when it is
  // usable but unscoped, else "{source_computer}:{stream entry id}"
  // (doc/ingress.md "message_id").
  std::string message_id;
  // The first kRawLimit bytes of the payload (for a later rejection).
  std::string raw;
  // What MessageAuthenticator decided (admitted; perhaps unsigned).
  AuthVerdict auth;
};

struct DecodedEntry {
  enum class Kind {
    kNotMesh,   // `type` is not mesh_event (or absent): acknowledge, leave alone
    kEvent,     // `event` is set
    kRejected,  // `rejection` is set
  };
  Kind kind = Kind::kNotMesh;
  MeshEvent event;
  Rejection rejection;
};

// Thread-safe (immutable).
class MeshEntryDecoder {
 public:
  struct Options {
    std::string self_name;                // this computer (reflection check)
    int64_t max_message_bytes = 1 << 20;  // larger entries: too_large, unparsed
    // Authenticates every message before its envelope is parsed; not owned.
    // Null: no authentication (tests of the decoding rules alone).
    const MessageAuthenticator* authenticator = nullptr;
  };

  explicit MeshEntryDecoder(Options options);

  // In order: `type` != mesh_event -> kNotMesh; the entry's field bytes over
  // max_message_bytes -> too_large (not parsed); `payload` or
  // `source_computer` missing, source_computer not valid UTF-8 or not a valid
  // computer name -> malformed; source_computer == self -> reflection;
  // the authenticator refuses it -> its reason (unauthenticated, stale,
  // key_changed, malformed); payload not a valid envelope (invalid UTF-8, not JSON, too deep, wrong
  // fields) -> malformed with the codec's message; otherwise kEvent with
  // payload._mesh_source = source_computer.
  DecodedEntry Decode(const StreamEntry& entry) const;

 private:
  const Options options_;
};

// Up to `max_bytes` bytes of `bytes` as valid UTF-8: invalid sequences become
// U+FFFD, and a character that would cross the limit is left out.
std::string SanitizeUtf8Prefix(std::string_view bytes, size_t max_bytes);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_MESH_ENTRY_DECODER_H_
