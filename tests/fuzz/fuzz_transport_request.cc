// libFuzzer target: DecodeTransportRequest on arbitrary stream entries of
// `messages:{me}` (TeleClaude transport requests, written by any computer of
// the mesh), and the answer text built from the result. The input is split
// into fields as in fuzz_mesh_entry (tests/fuzz/fuzz_fields.h), so the fuzzer
// can spell command, type, title, ... Checked for every entry: an error is
// valid UTF-8 within its bounds, the answer text is pure-ASCII
// JSON (json.dumps escapes the rest) that reads back to the same error, and
// CommandName never yields more than the command held. Any violation aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/base/utf8.h"
#include "common/json/json_text.h"
#include "services/ingress/transport_request.h"
#include "tests/fuzz/fuzz_fields.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_transport_request: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace teleclaude::mesh;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto fields = fuzz::FieldsFromBytes(input);
  const TransportRequest r = DecodeTransportRequest(fields);

  for (const auto& [key, value] : fields) {
    if (key != "command" || !IsValidUtf8(value)) continue;
    const std::optional<std::string> name = CommandName(value);
    if (name.has_value() && (name->size() > value.size() || !IsValidUtf8(*name))) {
      Fail("command name longer than the command or not UTF-8", value);
    }
  }
  if (r.kind != TransportRequest::Kind::kError) {
    if (!r.error.empty()) Fail("an error without kError", r.error);
    return 0;
  }
  if (r.error.empty() || !IsValidUtf8(r.error)) Fail("bad error text", r.error);
  if (r.error.size() > 64 + kMaxEchoedNameBytes) Fail("error text too long", r.error);
  const std::string text = ErrorResponse(r.error);
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80 || c == '\n') Fail("answer is not ASCII JSON", text);
  }
  if (json::GetMemberString(text, "error") != r.error) Fail("answer reads back differently", text);
  if (json::GetMemberString(text, "status") != "error") Fail("answer status", text);
  return 0;
}
