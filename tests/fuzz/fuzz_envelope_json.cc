// libFuzzer target: DecodeEnvelopeJson on arbitrary bytes. Its fast path for
// model text must agree with the full parse (same envelope or same error);
// text that CanonicalValueEnd takes for canonical must canonicalize to
// itself. For every accepted input, the mesh text must be a fixed point of
// decode+encode, the stream entry must survive decode+encode unchanged, and
// the proto form must round trip. Any violation aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "common/envelope/internal/json_decode.h"
#include "common/envelope/json_codec.h"
#include "common/envelope/proto_codec.h"
#include "common/envelope/stream_codec.h"
#include "common/json/json_text.h"
#include "tests/fuzz/envelope_fuzz_checks.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_envelope_json: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace teleclaude::mesh;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  std::vector<json::KeySpan> scratch;
  if (json::CanonicalValueEnd(input, 0, 32, &scratch) == input.size()) {
    auto canonical = json::CanonicalizeWithParser(input, json::NonFinite::kKeep);
    if (!canonical.ok() || *canonical != input) {
      Fail("CanonicalValueEnd accepted text that is not canonical", std::string(input));
    }
  }
  if (!fuzz::CanonicalizeShortcutAgrees(input)) {
    Fail("Canonicalize's shortcut and the parser disagree", std::string(input));
  }

  auto env = DecodeEnvelopeJson(input);
  auto full = envelope_internal::DecodeEnvelopeJsonFullParse(input);
  if (env.ok() != full.ok()) Fail("fast path and full parse disagree", std::string(input));
  if (!env.ok() && env.status() != full.status()) {
    Fail("fast path and full parse give different errors",
         std::string(env.status().message()) + "\n" + std::string(full.status().message()));
  }
  if (env.ok()) {
    // Without a timestamp in the input both take the current time.
    auto recent = [now = absl::Now()](const Timestamp& t) {
      return absl::AbsDuration(now - t.ToTime()) < absl::Seconds(5);
    };
    if (env->timestamp != full->timestamp && recent(env->timestamp) && recent(full->timestamp)) {
      full->timestamp = env->timestamp;
    }
    if (!(*env == *full)) {
      Fail("fast path and full parse give different envelopes",
           EncodeEnvelopeJson(*env) + "\n" + EncodeEnvelopeJson(*full));
    }
  }
  if (!env.ok()) {
    if (env.status().message().empty()) Fail("empty error message", "");
    return 0;
  }
  std::string j1 = EncodeEnvelopeJson(*env);
  auto again = DecodeEnvelopeJson(j1);
  if (!again.ok()) {
    Fail("own output rejected", j1 + "\n" + std::string(again.status().message()));
  }
  std::string j2 = EncodeEnvelopeJson(*again);
  if (j1 != j2) Fail("mesh text is not a fixed point", j1 + "\n" + j2);

  StreamFields s1 = EncodeEnvelopeStream(*env);
  auto from_stream = DecodeEnvelopeStream(s1);
  if (!from_stream.ok()) {
    Fail("own stream entry rejected", std::string(from_stream.status().message()));
  }
  StreamFields s2 = EncodeEnvelopeStream(*from_stream);
  if (s1 != s2) Fail("stream entry is not a fixed point", j1);

  if (!env->event.empty() && !env->source.empty()) {
    teleclaude::mesh::v1::EventEnvelope proto;
    EnvelopeToProto(*env, &proto);
    auto back = EnvelopeFromProto(proto);
    if (!back.ok()) Fail("own proto rejected", std::string(back.status().message()));
    if (!(*back == *env)) Fail("proto round trip changed the envelope", j1);
  }
  return 0;
}
