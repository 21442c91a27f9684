// libFuzzer target: ValidatePeerName and DisplayPeerName on arbitrary bytes
// (peer names come from any writer of Redis: heartbeat keys and values,
// source_computer of mesh messages). Checked: an accepted name is non-empty,
// at most kMaxPeerNameBytes and valid UTF-8; a refusal is one line of valid
// UTF-8 starting with the field; the displayed name is one line of valid
// UTF-8 without control bytes, and a plain name is shown as it is. Any
// violation aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/base/utf8.h"
#include "common/mesh/peer_name.h"

namespace {

using namespace teleclaude::mesh;

[[noreturn]] void Fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz_peer_name: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

bool OneCleanLine(std::string_view text) {
  if (!IsValidUtf8(text)) return false;
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view name(reinterpret_cast<const char*>(data), size);
  absl::Status status = ValidatePeerName("name", name);
  if (status.ok()) {
    if (name.empty() || name.size() > kMaxPeerNameBytes || !IsValidUtf8(name)) {
      Fail("accepted a name it should refuse", name);
    }
  } else {
    const std::string message(status.message());
    if (message.rfind("name: ", 0) != 0 || !OneCleanLine(message)) {
      Fail("refusal is not one clean line naming the field", message);
    }
  }
  const std::string shown = DisplayPeerName(name);
  if (!OneCleanLine(shown)) Fail("displayed name is not one clean line", shown);
  if (IsPlainPeerName(name) && shown != name) Fail("plain name changed", shown);
  return 0;
}
