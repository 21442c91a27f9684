// libFuzzer target: the JSON egress's Pipeline handlers read from a request
// (issue 18): Submit's events (a protobuf EventEnvelope whose JSON-valued
// fields are fuzzed text, and `envelope_json`), Emit's payload_json and
// ResolveNotification's resolution_json, through the same functions the
// handlers call (EnvelopeFromProto, DecodeEnvelopeJson,
// json::CanonicalizeObject). Invariants (any violation aborts): every error
// is INVALID_ARGUMENT; nothing nested deeper than json::kMaxDepth is
// accepted; an accepted envelope encodes to JSON that decodes again.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/envelope/json_codec.h"
#include "common/envelope/proto_codec.h"
#include "common/json/json_text.h"
#include "common/json/options.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_pipeline_request: %s\n%s\n", what, detail.c_str());
  std::abort();
}

void ExpectInvalidArgument(const absl::Status& status, const char* what) {
  if (!status.ok() && !absl::IsInvalidArgument(status)) Fail(what, status.ToString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace teleclaude::mesh;
  FuzzedDataProvider in(data, size);
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0: {  // Submit with a protobuf envelope
      v1::EventEnvelope e;
      e.set_event(in.ConsumeRandomLengthString(64));
      e.set_source(in.ConsumeRandomLengthString(64));
      e.set_level(static_cast<v1::EventLevel>(in.ConsumeIntegralInRange(0, 4)));
      e.set_timestamp(in.ConsumeRandomLengthString(40));
      e.set_payload_json(in.ConsumeRandomLengthString());
      if (in.ConsumeBool()) e.set_actions_json(in.ConsumeRandomLengthString());
      if (in.ConsumeBool()) e.set_resolution_shape_json(in.ConsumeRandomLengthString());
      e.set_extra_json(in.ConsumeRemainingBytesAsString());
      absl::StatusOr<EventEnvelope> envelope = EnvelopeFromProto(e);
      ExpectInvalidArgument(envelope.status(), "EnvelopeFromProto");
      if (envelope.ok()) {
        const std::string text = EncodeEnvelopeJson(*envelope);
        absl::StatusOr<EventEnvelope> again = DecodeEnvelopeJson(text);
        if (!again.ok()) Fail("encoded envelope does not decode", again.status().ToString());
      }
      break;
    }
    case 1: {  // Submit with envelope_json
      const std::string text = in.ConsumeRemainingBytesAsString();
      ExpectInvalidArgument(DecodeEnvelopeJson(text).status(), "DecodeEnvelopeJson");
      break;
    }
    case 2: {  // Emit's payload_json
      const std::string text = in.ConsumeRemainingBytesAsString();
      ExpectInvalidArgument(
          json::CanonicalizeObject(text, "payload_json", json::NonFinite::kKeep).status(),
          "Emit payload_json");
      break;
    }
    default: {  // ResolveNotification's resolution_json
      const std::string text = in.ConsumeRemainingBytesAsString();
      absl::StatusOr<std::string> c = json::CanonicalizeObject(text, "resolution_json");
      ExpectInvalidArgument(c.status(), "resolution_json");
      if (c.ok() && text.size() > json::kMaxTextBytes) Fail("oversized text accepted", "");
      break;
    }
  }
  return 0;
}
