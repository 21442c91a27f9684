#include "common/mesh/mesh_message.h"

#include "common/base/show_bytes.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/identity/transcript.h"

namespace teleclaude::mesh {

std::string MeshStreamKey(std::string_view computer_name) {
  return Cat("messages:", computer_name);
}

std::vector<std::pair<std::string, std::string>> EncodeMeshMessage(std::string_view envelope_json,
                                                                   std::string_view source_computer,
                                                                   std::string_view message_id) {
  std::vector<std::pair<std::string, std::string>> fields;
  fields.reserve(6);
  fields.emplace_back(kFieldType, kMeshEventType);
  fields.emplace_back(kFieldPayload, envelope_json);
  fields.emplace_back(kFieldSourceComputer, source_computer);
  if (!message_id.empty()) fields.emplace_back(kFieldMessageId, message_id);
  return fields;
}

std::vector<std::pair<std::string, std::string>> EncodeAuthenticatedMeshMessage(
    const MacKey& send_key, std::string_view recipient_stream, std::string_view envelope_json,
    std::string_view source_computer, std::string_view message_id, int64_t sent_at_ms) {
  std::vector<std::pair<std::string, std::string>> fields =
      EncodeMeshMessage(envelope_json, source_computer, message_id);
  std::string sent_at;
  AppendSentAt(sent_at_ms, &sent_at);
  std::string auth;
  AppendMeshMessageAuth(send_key, source_computer, recipient_stream, message_id, sent_at,
                        envelope_json, &auth);
  fields.emplace_back(kFieldSentAt, std::move(sent_at));
  fields.emplace_back(kFieldAuth, std::move(auth));
  return fields;
}

void AppendSentAt(int64_t ms, std::string* out) { CatTo(*out, ms); }

std::string MeshMessageAuthBytes(std::string_view source_computer,
                                 std::string_view recipient_stream, std::string_view message_id,
                                 std::string_view sent_at, std::string_view envelope_json) {
  return TranscriptBytes(kMeshMessageAuthDomain,
                         {source_computer, recipient_stream, message_id, sent_at, envelope_json});
}

void AppendMeshMessageAuth(const MacKey& send_key, std::string_view source_computer,
                           std::string_view recipient_stream, std::string_view message_id,
                           std::string_view sent_at, std::string_view envelope_json,
                           std::string* out) {
  MacKey::AppendTagWire(
      send_key.Compute(kMeshMessageAuthDomain,
                       {source_computer, recipient_stream, message_id, sent_at, envelope_json}),
      out);
}

MeshMessage ParseMeshMessage(const std::vector<std::pair<std::string, std::string>>& fields) {
  MeshMessage m;
  for (const auto& [key, value] : fields) {
    if (key == kFieldType) {
      m.type = value;
    } else if (key == kFieldPayload) {
      m.payload = value;
    } else if (key == kFieldSourceComputer) {
      m.source_computer = value;
    } else if (key == kFieldMessageId) {
      m.message_id = value;
    } else if (key == kFieldSentAt) {
      m.sent_at = value;
    } else if (key == kFieldAuth) {
      m.auth = value;
    }
  }
  return m;
}

absl::StatusOr<std::optional<MeshMessageAuth>> DecodeMeshMessageAuth(const MeshMessage& message) {
  if (!message.sent_at.has_value() && !message.auth.has_value()) return std::nullopt;
  if (!message.auth.has_value()) {
    return absl::InvalidArgumentError("auth: missing while sent_at is present");
  }
  if (!message.sent_at.has_value()) {
    return absl::InvalidArgumentError("sent_at: missing while auth is present");
  }
  if (!message.message_id.has_value() || message.message_id->empty()) {
    return absl::InvalidArgumentError(
        "message_id: missing or empty; an authenticated message carries one");
  }
  const std::string& text = *message.sent_at;
  MeshMessageAuth auth;
  const bool canonical_digits = !text.empty() && text.size() <= kMaxSentAtDigits &&
                                (text.size() == 1 || text[0] != '0') &&
                                text.find_first_not_of("0123456789") == std::string::npos;
  if (!canonical_digits || !ParseInt(text, &auth.sent_at_ms)) {
    return absl::InvalidArgumentError(
        Cat("sent_at: expected Unix milliseconds (1 to ", kMaxSentAtDigits,
            " digits, no sign or leading zero), got ", ShowBytes(text)));
  }
  TM_ASSIGN_OR_RETURN(auth.tag, MacKey::TagFromWire(kFieldAuth, *message.auth));
  return auth;
}

absl::Status VerifyMeshMessageAuth(const MacKey& receive_key, std::string_view recipient_stream,
                                   const MeshMessage& message, const MeshMessageAuth& auth) {
  if (!message.source_computer.has_value() || !message.payload.has_value() ||
      !message.message_id.has_value()) {
    return absl::InvalidArgumentError(
        "auth: the message lacks source_computer, payload or message_id");
  }
  // The canonical spelling of sent_at_ms is the text that was sent
  // (DecodeMeshMessageAuth accepts no other).
  std::string sent_at;  // at most 15 characters: no allocation
  AppendSentAt(auth.sent_at_ms, &sent_at);
  if (!receive_key.Verify(kMeshMessageAuthDomain,
                          {*message.source_computer, recipient_stream, *message.message_id, sent_at,
                           *message.payload},
                          auth.tag)) {
    return absl::UnauthenticatedError(Cat("auth: does not verify with the pair key of ",
                                          ShowBytes(*message.source_computer, 64),
                                          " (forged, altered, or written to another stream)"));
  }
  return absl::OkStatus();
}

}  // namespace teleclaude::mesh
