// The mesh message: a stream entry on `messages:{peer}` (DESIGN §3.3,
// doc/wire.md §6, doc/security.md "Authenticated mesh message"). Fields, in
// this order: `type` = "mesh_event", `payload` = the envelope's
// model_dump_json text, `source_computer` = the sender, then our own
// `message_id` (a stable id for de-duplication at the receiver), `sent_at`
// (the sender's clock, Unix milliseconds) and `auth` (a MAC with the pair
// key of sender and recipient, common/identity/mac_key.h). Python readers ignore the extra fields,
// and ingress accepts messages without them (from Python peers; its policy decides whether to admit
// them). Pure functions; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_MESH_MESH_MESSAGE_H_
#define TELECLAUDE_MESH_COMMON_MESH_MESH_MESSAGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/identity/mac_key.h"

namespace teleclaude::mesh {

inline constexpr std::string_view kMeshEventType = "mesh_event";
inline constexpr std::string_view kFieldType = "type";
inline constexpr std::string_view kFieldPayload = "payload";
inline constexpr std::string_view kFieldSourceComputer = "source_computer";
inline constexpr std::string_view kFieldMessageId = "message_id";
inline constexpr std::string_view kFieldSentAt = "sent_at";
inline constexpr std::string_view kFieldAuth = "auth";
// The domain tag of the authenticated bytes (MeshMessageAuthBytes).
inline constexpr std::string_view kMeshMessageAuthDomain = "teleclaude-mesh message v1";
// The consumer group ingress reads `messages:{me}` with. Senders read its lag
// to avoid trimming entries the receiver has not read yet (doc/wire.md).
inline constexpr std::string_view kMeshIngressGroup = "mesh-ingress";

// "messages:{computer_name}".
std::string MeshStreamKey(std::string_view computer_name);

// The fields of one mesh message, in wire order (no authentication).
std::vector<std::pair<std::string, std::string>> EncodeMeshMessage(std::string_view envelope_json,
                                                                   std::string_view source_computer,
                                                                   std::string_view message_id);

// The fields of an authenticated mesh message from `source_computer` to
// the stream `recipient_stream` ("messages:{peer}"): EncodeMeshMessage's,
// then `sent_at` and `auth` = AppendMeshMessageAuth's. `send_key` is the
// pair key K(source -> peer) (PairKeys::send). REQUIRES: message_id is not
// empty, sent_at_ms >= 0.
std::vector<std::pair<std::string, std::string>> EncodeAuthenticatedMeshMessage(
    const MacKey& send_key, std::string_view recipient_stream, std::string_view envelope_json,
    std::string_view source_computer, std::string_view message_id, int64_t sent_at_ms);

// The `sent_at` value: decimal Unix milliseconds, no sign, no leading zero.
// Appends to `out`. REQUIRES: ms >= 0.
void AppendSentAt(int64_t ms, std::string* out);

// The bytes the `auth` MAC covers: the transcript
// (common/identity/transcript.h) "teleclaude-mesh message v1"
// [source_computer, recipient_stream, message_id, sent_at (as sent),
// payload (the envelope JSON as sent)]. For tests and documentation
// (MacKey builds the same bytes in a reused buffer).
std::string MeshMessageAuthBytes(std::string_view source_computer,
                                 std::string_view recipient_stream, std::string_view message_id,
                                 std::string_view sent_at, std::string_view envelope_json);

// Appends the `auth` value ("v1:" + base64 of the 40-byte tag, nonce and
// Poly1305 tag, MacKey with `send_key` over MeshMessageAuthBytes) to `out`, allocating nothing
// beyond `out` (the egress hot path). `sent_at` is the value AppendSentAt wrote.
void AppendMeshMessageAuth(const MacKey& send_key, std::string_view source_computer,
                           std::string_view recipient_stream, std::string_view message_id,
                           std::string_view sent_at, std::string_view envelope_json,
                           std::string* out);

// What a received entry holds; absent fields are nullopt. When a field occurs
// more than once the last one counts (as a Python dict built from the reply).
struct MeshMessage {
  std::optional<std::string> type;
  std::optional<std::string> payload;
  std::optional<std::string> source_computer;
  std::optional<std::string> message_id;
  std::optional<std::string> sent_at;
  std::optional<std::string> auth;
};

MeshMessage ParseMeshMessage(const std::vector<std::pair<std::string, std::string>>& fields);

// The decoded authentication fields of a message.
struct MeshMessageAuth {
  int64_t sent_at_ms = 0;
  MacKey::Tag tag{};
};

// Longest `sent_at` accepted: 15 digits reach the year 33658.
inline constexpr size_t kMaxSentAtDigits = 15;

// Reads `sent_at` and `auth` of a received message. nullopt when neither is
// present (an unauthenticated message: a Python peer, or anyone writing in a
// name; the caller's policy decides). INVALID_ARGUMENT "<field>: ..." when
// only one is present, `message_id` is missing or empty (an authenticated
// message always has one: de-duplication relies on it), `sent_at` is not
// 1..kMaxSentAtDigits digits without sign or leading zero, or `auth` is not
// "v1:" + the base64 of 40 bytes (another version is named as such).
absl::StatusOr<std::optional<MeshMessageAuth>> DecodeMeshMessageAuth(const MeshMessage& message);

// Checks `auth` (from DecodeMeshMessageAuth(message)) against
// `receive_key`, the pair key K(sender -> this computer) of the computer
// the message claims as `source_computer` — derived from the key PINNED for
// that name (PairKeys::receive), never from a key the message or a fresh
// heartbeat offers. `recipient_stream` is the stream it was read from
// ("messages:{me}"). OK when the MAC matches; UNAUTHENTICATED "auth: ..."
// when it does not (forged, tampered, or sent to another stream);
// INVALID_ARGUMENT when `message` lacks source_computer, payload or
// message_id.
//
// What remains the CALLER's, in this order, after this returns OK:
//   1. CheckTimeWindow(kFieldSentAt, sent_at, now, kMessageSendTimeWindow)
//      (time_window.h): refuses a replay older than the de-duplication
//      memory and a send time far ahead of this computer's clock;
//   2. de-duplication by message_id — only now, after authentication, so
//      that nobody can pre-empt another computer's message ids.
absl::Status VerifyMeshMessageAuth(const MacKey& receive_key, std::string_view recipient_stream,
                                   const MeshMessage& message, const MeshMessageAuth& auth);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_MESH_MESH_MESSAGE_H_
