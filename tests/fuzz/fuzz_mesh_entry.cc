// libFuzzer target: MeshEntryDecoder::Decode on arbitrary stream entries of
// `messages:{me}` (written by any computer of the mesh). The input is split at
// 0x00 bytes into fields, each field at its first 0x01 byte into name and
// value, so the fuzzer can spell the real field names (type, payload,
// source_computer, message_id). Checked for every entry: a rejection has a
// known reason, a detail, and raw/source within kRawLimit, all valid UTF-8;
// an accepted event's envelope text is a fixed point of decode+encode, carries
// _mesh_source, has a sender-scoped message id, and sending it on again
// (EncodeMeshMessage) decodes to the same event. Any violation aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/utf8.h"
#include "common/envelope/json_codec.h"
#include "common/json/json_text.h"
#include "common/mesh/mesh_message.h"
#include "services/ingress/mesh_entry_decoder.h"
#include "tests/fuzz/fuzz_fields.h"

namespace {

using teleclaude::mesh::DecodedEntry;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_mesh_entry: %s\n%s\n", what, detail.c_str());
  std::abort();
}

constexpr std::string_view kSelf = "beta";
// Small, so that too_large is reachable with the fuzzer's input sizes.
constexpr int64_t kMaxMessageBytes = 2048;

void CheckRejection(const teleclaude::mesh::Rejection& r) {
  using namespace teleclaude::mesh;
  if (r.reason != kReasonMalformed && r.reason != kReasonTooLarge &&
      r.reason != kReasonReflection) {
    Fail("unknown rejection reason", r.reason);
  }
  if (r.detail.empty()) Fail("rejection without detail", r.reason);
  if (!IsValidUtf8(r.detail)) Fail("detail is not valid UTF-8", r.detail);
  if (r.raw.size() > kRawLimit || !IsValidUtf8(r.raw)) Fail("bad raw", r.raw);
  if (r.source_computer.has_value() &&
      (r.source_computer->size() > kRawLimit || !IsValidUtf8(*r.source_computer))) {
    Fail("bad rejection source_computer", *r.source_computer);
  }
  if (r.event_type.has_value() && !IsValidUtf8(*r.event_type)) {
    Fail("event_type is not valid UTF-8", *r.event_type);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace teleclaude::mesh;
  static const MeshEntryDecoder decoder({std::string(kSelf), kMaxMessageBytes});
  std::string_view input(reinterpret_cast<const char*>(data), size);
  StreamEntry entry{"1700000000000-0", fuzz::FieldsFromBytes(input)};

  DecodedEntry d = decoder.Decode(entry);
  switch (d.kind) {
    case DecodedEntry::Kind::kNotMesh:
      return 0;
    case DecodedEntry::Kind::kRejected:
      CheckRejection(d.rejection);
      return 0;
    case DecodedEntry::Kind::kEvent:
      break;
  }
  const MeshEvent& event = d.event;
  if (event.source_computer == kSelf) Fail("reflection accepted", event.source_computer);
  if (event.raw.size() > kRawLimit || !IsValidUtf8(event.raw)) Fail("bad raw", event.raw);
  if (!IsValidUtf8(event.message_id) ||
      !(event.message_id.starts_with(event.source_computer + ":") ||
        event.message_id.starts_with(event.source_computer + "/"))) {
    Fail("message id not scoped to the sender", event.message_id);
  }
  if (json::GetMemberString(event.envelope.payload_json, "_mesh_source") != event.source_computer) {
    Fail("payload without _mesh_source", event.envelope.payload_json);
  }
  const std::string text = EncodeEnvelopeJson(event.envelope);
  absl::StatusOr<EventEnvelope> again = DecodeEnvelopeJson(text);
  if (!again.ok())
    Fail("own envelope rejected", text + "\n" + std::string(again.status().message()));
  // A fixed point of the text, as in fuzz_envelope_json: a non-finite
  // number in an extra field is null on the mesh, so the envelopes may differ.
  if (EncodeEnvelopeJson(*again) != text) Fail("envelope text is not a fixed point", text);

  // Sent on as egress would: the same event again. The re-encoded envelope
  // spells out every default, so it may be longer than the entry was.
  static const MeshEntryDecoder resend_decoder({std::string(kSelf), int64_t{1} << 20});
  StreamEntry resent{"1700000000001-0",
                     EncodeMeshMessage(text, event.source_computer, event.message_id)};
  DecodedEntry d2 = resend_decoder.Decode(resent);
  if (d2.kind != DecodedEntry::Kind::kEvent) {
    Fail("re-sent event not accepted", text + "\n" + d2.rejection.detail);
  }
  if (EncodeEnvelopeJson(d2.event.envelope) != text || d2.event.message_id != event.message_id ||
      d2.event.source_computer != event.source_computer) {
    Fail("re-sent event decodes differently",
         text + "\nagain: " + EncodeEnvelopeJson(d2.event.envelope) + "\nids: " + event.message_id +
             " / " + d2.event.message_id + "\nsources: " + event.source_computer + " / " +
             d2.event.source_computer);
  }
  return 0;
}
