// libFuzzer target: what a (hostile) sandbox runner answers egress
// (services/egress/python/runner_protocol.h). The input is a frame: its first
// 4 bytes go to DecodeRunnerFrameHeader, the rest to DecodeRunnerResponse.
// Neither may crash; a refused header must be over the 4 MiB limit. For
// every accepted envelope, the request egress would send with it must
// encode, and the envelope it carries (to_stream_dict) sent back as a
// response must decode to an envelope sent the same way (a fixed point). Any violation
// aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/catalog/event_catalog.h"
#include "services/egress/python/runner_protocol.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_runner_response: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace teleclaude::mesh;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.size() >= kRunnerHeaderBytes) {
    absl::StatusOr<uint32_t> n = DecodeRunnerFrameHeader(input.substr(0, kRunnerHeaderBytes));
    uint32_t announced = 0;
    for (size_t i = 0; i < kRunnerHeaderBytes; ++i) {
      announced = (announced << 8) | static_cast<uint8_t>(input[i]);
    }
    if (n.ok() != (announced <= kRunnerMaxFrameBytes) || (n.ok() && *n != announced)) {
      Fail("header decoded wrongly", std::to_string(announced));
    }
    input.remove_prefix(kRunnerHeaderBytes);
  }
  absl::StatusOr<RunnerResponse> response = DecodeRunnerResponse(input);
  if (!response.ok() || !response->envelope.has_value()) return 0;
  absl::StatusOr<std::string> request = EncodeRunnerRequest("fuzz", *response->envelope, "[]");
  if (!request.ok()) return 0;  // over the frame limit
  // The request's body is {"cartridge_name":"fuzz","envelope":{...},...}:
  // cut the envelope object out and answer it.
  const std::string& frame = *request;
  const std::string prefix = R"({"cartridge_name":"fuzz","envelope":)";
  const std::string suffix = R"(,"catalog_snapshot":[]})";
  if (frame.compare(kRunnerHeaderBytes, prefix.size(), prefix) != 0 ||
      frame.size() < kRunnerHeaderBytes + prefix.size() + suffix.size() ||
      frame.compare(frame.size() - suffix.size(), suffix.size(), suffix) != 0) {
    Fail("request shape", frame);
  }
  std::string envelope =
      frame.substr(kRunnerHeaderBytes + prefix.size(),
                   frame.size() - kRunnerHeaderBytes - prefix.size() - suffix.size());
  absl::StatusOr<RunnerResponse> again =
      DecodeRunnerResponse("{\"envelope\":" + envelope + ",\"error\":null}");
  if (!again.ok()) Fail("our own stream dict refused", std::string(again.status().message()));
  // The stream dict is the fixed point, not the first decoded envelope: like
  // TeleClaude's to_stream_dict, an empty `actions` object is written as ""
  // and so reads back as none.
  if (!again->envelope.has_value()) Fail("our own stream dict lost its envelope", envelope);
  absl::StatusOr<std::string> request_again = EncodeRunnerRequest("fuzz", *again->envelope, "[]");
  if (!request_again.ok() || *request_again != frame) {
    Fail("stream dict round trip changed the envelope", envelope);
  }
  return 0;
}
