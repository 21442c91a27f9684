#include "services/ingress/mesh_entry_decoder.h"

#include <utility>

#include "absl/status/status.h"
#include "common/base/strings.h"
#include "common/base/utf8.h"
#include "common/config/config.h"
#include "common/envelope/json_codec.h"
#include "common/json/json_text.h"
#include "common/mesh/mesh_message.h"
#include "common/mesh/peer_name.h"

namespace teleclaude::mesh {
namespace {

std::string StatusText(const absl::Status& status) { return std::string(ToStd(status.message())); }

}  // namespace

std::string SanitizeUtf8Prefix(std::string_view bytes, size_t max_bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(std::min(bytes.size(), max_bytes));
  // Valid bytes are copied in runs; [run, i) is valid and not yet copied.
  size_t run = 0;
  size_t i = 0;
  while (i < bytes.size()) {
    const size_t n = static_cast<unsigned char>(bytes[i]) < 0x80 ? 1 : Utf8SequenceLength(bytes, i);
    const size_t piece = n == 0 ? kReplacement.size() : n;
    if (out.size() + (i - run) + piece > max_bytes) break;
    if (n == 0) {
      out.append(bytes.substr(run, i - run));
      out.append(kReplacement);
      run = ++i;
    } else {
      i += n;
    }
  }
  out.append(bytes.substr(run, i - run));
  return out;
}

MeshEntryDecoder::MeshEntryDecoder(Options options) : options_(std::move(options)) {}

DecodedEntry MeshEntryDecoder::Decode(const StreamEntry& entry) const {
  DecodedEntry out;
  const MeshMessage message = ParseMeshMessage(entry.fields);
  if (!message.type.has_value() || *message.type != kMeshEventType) {
    out.kind = DecodedEntry::Kind::kNotMesh;
    return out;
  }

  out.kind = DecodedEntry::Kind::kRejected;
  Rejection& rejection = out.rejection;
  if (message.source_computer.has_value()) {
    rejection.source_computer = SanitizeUtf8Prefix(*message.source_computer, kRawLimit);
  }
  if (message.payload.has_value()) {
    rejection.raw = SanitizeUtf8Prefix(*message.payload, kRawLimit);
  } else {
    // No payload: show what the entry did hold.
    std::string fields;
    for (const auto& [key, value] : entry.fields) {
      if (fields.size() > kRawLimit) break;
      CatTo(fields, fields.empty() ? "" : " ", key.substr(0, kRawLimit), "=",
            value.substr(0, kRawLimit));
    }
    rejection.raw = SanitizeUtf8Prefix(fields, kRawLimit);
  }

  size_t total = 0;
  for (const auto& [key, value] : entry.fields) total += key.size() + value.size();
  if (total > static_cast<size_t>(options_.max_message_bytes)) {
    rejection.reason = kReasonTooLarge;
    rejection.detail =
        Cat("the message is ", total,
            " bytes, over --max_message_bytes=", options_.max_message_bytes, "; it was not parsed");
    return out;
  }
  if (!message.payload.has_value()) {
    rejection.reason = kReasonMalformed;
    rejection.detail =
        "payload: field missing; a mesh message needs type, payload (the envelope JSON) and "
        "source_computer";
    return out;
  }
  // The event type, when the payload is readable enough to tell (for the
  // rejection's payload only; the codec below is what decides).
  auto event_type = [&]() -> std::optional<std::string> {
    if (!IsValidUtf8(*message.payload)) return std::nullopt;
    std::optional<std::string> type = json::GetMemberString(*message.payload, "event");
    if (type.has_value()) *type = SanitizeUtf8Prefix(*type, kRawLimit);
    return type;
  };
  if (!message.source_computer.has_value()) {
    rejection.reason = kReasonMalformed;
    rejection.detail =
        "source_computer: field missing; a mesh message must name its sender (the heartbeat "
        "computer_name)";
    rejection.event_type = event_type();
    return out;
  }
  const std::string& source = *message.source_computer;
  if (!IsValidUtf8(source)) {
    rejection.reason = kReasonMalformed;
    rejection.detail = "source_computer: not valid UTF-8; use the sender's heartbeat computer_name";
    rejection.event_type = event_type();
    return out;
  }
  // Any name a Python computer may have (issue 15, common/mesh/peer_name.h).
  if (absl::Status valid = ValidatePeerName("source_computer", source); !valid.ok()) {
    rejection.reason = kReasonMalformed;
    rejection.detail = SanitizeUtf8Prefix(StatusText(valid), 1024);
    rejection.event_type = event_type();
    return out;
  }
  if (source == options_.self_name) {
    rejection.reason = kReasonReflection;
    rejection.detail = Cat("source_computer is this computer (", source,
                           "): a computer never receives its own events from the mesh");
    rejection.event_type = event_type();
    return out;
  }

  // Who sent it, before any JSON of it is parsed (doc/security.md §10.3).
  AuthVerdict auth;
  if (options_.authenticator != nullptr) {
    auth = options_.authenticator->Authenticate(message, absl::Now());
    if (!auth.admitted) {
      rejection.reason = auth.reason;
      rejection.detail = SanitizeUtf8Prefix(auth.detail, 1024);
      rejection.event_type = event_type();
      return out;
    }
  }

  absl::StatusOr<EventEnvelope> envelope = DecodeEnvelopeJson(*message.payload);
  if (!envelope.ok()) {
    rejection.reason = kReasonMalformed;
    rejection.detail = Cat("payload: ", SanitizeUtf8Prefix(StatusText(envelope.status()), 1024));
    rejection.event_type = event_type();
    return out;
  }
  absl::StatusOr<std::string> stamped =
      json::SetMember(envelope->payload_json, "_mesh_source", json::Quote(source));
  if (!stamped.ok()) {
    rejection.reason = kReasonMalformed;
    rejection.detail = Cat("payload.payload: ", StatusText(stamped.status()));
    rejection.event_type = envelope->event;
    return out;
  }
  envelope->payload_json = *std::move(stamped);

  out.kind = DecodedEntry::Kind::kEvent;
  MeshEvent& event = out.event;
  event.raw = std::move(rejection.raw);
  out.rejection = Rejection();
  event.source_computer = source;
  event.envelope = *std::move(envelope);
  event.auth = std::move(auth);
  // A peer's own id is used when it is scoped to that peer ("{source}/..."
  // as egress writes it, doc/wire.md §7, or "{source}:..."); an unscoped one
  // is scoped here, so one peer can never suppress another peer's events
  // through egress' de-dup. Either way the id is a function of what the peer
  // sent, so a re-sent copy gets the same id; the limit holds for the id as
  // used (scoped), so that the event sent on with it reads back the same.
  const std::string& given = message.message_id.value_or("");
  const bool scoped =
      given.rfind(Cat(source, "/"), 0) == 0 || given.rfind(Cat(source, ":"), 0) == 0;
  const size_t used_size = scoped ? given.size() : source.size() + 1 + given.size();
  const bool usable = !given.empty() && used_size <= kMaxMessageIdBytes && IsValidUtf8(given);
  if (!usable) {
    event.message_id = Cat(source, ":", entry.id);
  } else if (scoped) {
    event.message_id = given;
  } else {
    event.message_id = Cat(source, ":", given);
  }
  return out;
}

}  // namespace teleclaude::mesh
