// libFuzzer target: TrustedKeys::Parse on arbitrary file text (a
// --trusted_keys file is written by a person, or by whoever can write the
// path). Checked: a refusal is one line of UTF-8 starting "line N: " or
// giving the size; an accepted file has at most kMaxEntries entries, valid
// unique names and canonical fingerprints, and ToText() parses back to the
// same names and fingerprints. Any violation aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "common/base/utf8.h"
#include "common/config/config.h"
#include "common/identity/trusted_keys.h"

namespace {

using namespace teleclaude::mesh;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_trusted_keys: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<TrustedKeys> keys = TrustedKeys::Parse(text);
  if (!keys.ok()) {
    const std::string message(keys.status().message());
    if (!message.starts_with("line ") && message.find(" bytes, more than ") == std::string::npos) {
      Fail("refusal gives no line", message);
    }
    if (message.find('\n') != std::string::npos || !IsValidUtf8(message)) {
      Fail("refusal is not one line of UTF-8", message);
    }
    return 0;
  }
  if (keys->entries().size() > TrustedKeys::kMaxEntries) Fail("too many entries", "");
  std::set<std::string> names;
  for (const TrustedKey& k : keys->entries()) {
    if (!ValidateName("name", k.name).ok() || !IsValidUtf8(k.name)) Fail("bad name", k.name);
    if (!names.insert(k.name).second) Fail("duplicate name", k.name);
    if (keys->Find(k.name) != &k) Fail("Find misses", k.name);
    absl::StatusOr<Fingerprint> again = Fingerprint::Parse("f", k.fingerprint.ToString());
    if (!again.ok() || !(*again == k.fingerprint)) Fail("fingerprint not canonical", k.name);
  }
  absl::StatusOr<TrustedKeys> reparsed = TrustedKeys::Parse(keys->ToText());
  if (!reparsed.ok()) Fail("own text refused", keys->ToText());
  if (reparsed->entries().size() != keys->entries().size())
    Fail("own text differs", keys->ToText());
  for (size_t i = 0; i < keys->entries().size(); ++i) {
    if (reparsed->entries()[i].name != keys->entries()[i].name ||
        !(reparsed->entries()[i].fingerprint == keys->entries()[i].fingerprint)) {
      Fail("own text differs", keys->ToText());
    }
  }
  return 0;
}
