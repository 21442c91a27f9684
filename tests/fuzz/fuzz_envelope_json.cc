// libFuzzer target: DecodeEnvelopeJson on arbitrary bytes. For every accepted
// input, the mesh text must be a fixed point of decode+encode, the stream
// entry must survive decode+encode unchanged, and the proto form must round
// trip. Any violation aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/envelope/json_codec.h"
#include "common/envelope/proto_codec.h"
#include "common/envelope/stream_codec.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_envelope_json: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace teleclaude::mesh;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto env = DecodeEnvelopeJson(input);
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
