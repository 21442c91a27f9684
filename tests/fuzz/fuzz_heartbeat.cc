// libFuzzer target: DecodeHeartbeat on arbitrary bytes (a heartbeat value is
// written by any computer of the mesh). An accepted heartbeat must encode to
// text that decodes back to the same Heartbeat; a refusal must say why. Any
// violation aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/mesh/heartbeat.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_heartbeat: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace teleclaude::mesh;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Heartbeat> hb = DecodeHeartbeat(input);
  if (!hb.ok()) {
    if (hb.status().message().empty()) Fail("empty error message", "");
    return 0;
  }
  std::string text = EncodeHeartbeat(*hb);
  absl::StatusOr<Heartbeat> again = DecodeHeartbeat(text);
  if (!again.ok()) {
    Fail("own heartbeat rejected", text + "\n" + std::string(again.status().message()));
  }
  if (!(*again == *hb)) Fail("heartbeat does not round-trip", text);
  if (EncodeHeartbeat(*again) != text) Fail("heartbeat text is not a fixed point", text);
  return 0;
}
