// libFuzzer target: the signature block of a cartridge.published payload
// (DecodeCartridgeSignature, VerifyCartridgeSignature; anyone may publish or
// relay a cartridge). The input is split at 0x00 into: author_key,
// author_signature (an empty part with a leading 0x02 byte stands for an
// absent member), then the statement's author, name, version, runtime,
// entry_point, event_type, description, dependencies (split at 0x01) and
// code_sha256. Checked: a refusal is one line naming author_key,
// author_signature or code_sha256; a signature verifies against alpha's
// pinned key only when alpha signed exactly this statement; a statement
// signed anew by alpha verifies, and no longer does with its description,
// a dependency or the author changed, nor against beta's key. Any violation
// aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/utf8.h"
#include "common/mesh/cartridge_signature.h"
#include "tests/fuzz/fuzz_fields.h"
#include "tests/fuzz/fuzz_keys.h"

namespace {

using namespace teleclaude::mesh;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_cartridge_signature: %s\n%s\n", what, detail.c_str());
  std::abort();
}

void CheckRefusal(const absl::Status& status) {
  const std::string message(status.message());
  if (!message.starts_with("author_key: ") && !message.starts_with("author_signature: ") &&
      !message.starts_with("code_sha256: ")) {
    Fail("refusal names no member", message);
  }
  if (message.find('\n') != std::string::npos || !IsValidUtf8(message)) {
    Fail("refusal is not one line of UTF-8", message);
  }
}

std::optional<std::string_view> Member(std::string_view part) {
  if (part.starts_with('\x02')) return std::nullopt;
  return part;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string_view> parts =
      fuzz::SplitAt(std::string_view(reinterpret_cast<const char*>(data), size), '\0');
  parts.resize(11);
  CartridgeStatement s;
  s.author = parts[2];
  s.name = parts[3];
  s.version = parts[4];
  s.runtime = parts[5];
  s.entry_point = parts[6];
  s.event_type = parts[7];
  s.description = parts[8];
  if (!parts[9].empty()) {
    for (std::string_view d : fuzz::SplitAt(parts[9], '\x01')) s.dependencies.emplace_back(d);
  }
  s.code_sha256 = parts[10];
  const PublicKey& alpha = fuzz::AlphaKey().public_key();

  absl::StatusOr<std::optional<CartridgeSignature>> decoded =
      DecodeCartridgeSignature(Member(parts[0]), Member(parts[1]));
  if (!decoded.ok()) {
    CheckRefusal(decoded.status());
  } else if (decoded->has_value()) {
    absl::Status verified = VerifyCartridgeSignature(s, **decoded, alpha);
    if (verified.ok()) {
      absl::StatusOr<std::string> bytes = CartridgeSignedBytes(s, alpha);
      if (!bytes.ok() || !((*decoded)->author_key == alpha) ||
          !alpha.Verify(*bytes, (*decoded)->signature)) {
        Fail("verified a signature alpha did not make", s.name);
      }
    } else {
      CheckRefusal(verified);
    }
  }

  absl::StatusOr<CartridgeSignature> fresh = SignCartridge(s, fuzz::AlphaKey());
  if (!fresh.ok()) {
    CheckRefusal(fresh.status());
    return 0;
  }
  absl::StatusOr<std::optional<CartridgeSignature>> relayed =
      DecodeCartridgeSignature(AuthorKeyValue(*fresh), AuthorSignatureValue(*fresh));
  if (!relayed.ok() || !relayed->has_value()) Fail("own signature does not decode", "");
  if (!VerifyCartridgeSignature(s, **relayed, alpha).ok()) Fail("own signature refused", s.name);
  if (VerifyCartridgeSignature(s, **relayed, fuzz::BetaKey().public_key()).ok()) {
    Fail("verified against another pinned key", s.name);
  }
  CartridgeStatement changed = s;
  changed.description += ".";
  if (VerifyCartridgeSignature(changed, **relayed, alpha).ok())
    Fail("changed description verifies", "");
  changed = s;
  changed.dependencies.push_back("");
  if (VerifyCartridgeSignature(changed, **relayed, alpha).ok())
    Fail("added dependency verifies", "");
  changed = s;
  changed.author += "x";
  if (VerifyCartridgeSignature(changed, **relayed, alpha).ok()) Fail("changed author verifies", "");
  return 0;
}
