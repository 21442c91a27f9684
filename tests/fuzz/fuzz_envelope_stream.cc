// libFuzzer target: DecodeEnvelopeStream on arbitrary field lists. The input
// is split at NUL bytes into alternating field names and values. Decoding
// from a copy and decoding by moving the values out must agree, and so must
// Canonicalize's shortcut and its parser on every value. For every accepted
// entry, encode+decode must be a fixed point and the mesh JSON of the
// envelope must decode again. Any violation aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/envelope/json_codec.h"
#include "common/envelope/stream_codec.h"
#include "common/json/json_text.h"
#include "tests/fuzz/envelope_fuzz_checks.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_envelope_stream: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace teleclaude::mesh;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  StreamFields fields;
  std::string key;
  bool have_key = false;
  size_t start = 0;
  for (size_t i = 0; i <= input.size(); ++i) {
    if (i < input.size() && input[i] != '\0') continue;
    std::string part(input.substr(start, i - start));
    start = i + 1;
    if (!have_key) {
      key = std::move(part);
      have_key = true;
    } else {
      fields.emplace_back(std::move(key), std::move(part));
      have_key = false;
    }
  }
  for (const auto& [name, value] : fields) {
    if (!fuzz::CanonicalizeShortcutAgrees(value)) {
      Fail("Canonicalize's shortcut and the parser disagree", value);
    }
  }
  auto env = DecodeEnvelopeStream(fields);
  StreamFields moved_from = fields;
  auto moved = DecodeEnvelopeStream(std::move(moved_from));
  if (!fuzz::SameResult(env, moved)) Fail("decoding a copy and decoding by move disagree", "");
  if (!env.ok()) {
    if (env.status().message().empty()) Fail("empty error message", "");
    return 0;
  }
  StreamFields s1 = EncodeEnvelopeStream(*env);
  auto again = DecodeEnvelopeStream(s1);
  if (!again.ok()) {
    Fail("own stream entry rejected", std::string(again.status().message()));
  }
  if (EncodeEnvelopeStream(*again) != s1) {
    Fail("stream entry is not a fixed point", EncodeEnvelopeJson(*env));
  }
  std::string j1 = EncodeEnvelopeJson(*env);
  auto from_json = DecodeEnvelopeJson(j1);
  if (!from_json.ok()) {
    Fail("own mesh text rejected", j1 + "\n" + std::string(from_json.status().message()));
  }
  if (EncodeEnvelopeJson(*from_json) != j1) Fail("mesh text not a fixed point", j1);
  return 0;
}
