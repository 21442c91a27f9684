// libFuzzer target: ParseCartridgePayload on arbitrary payload text (a
// cartridge.published event comes from any computer of the mesh and its code
// is installed as a file). The first input byte picks max_cartridge_bytes
// (byte * 8), the rest is the payload. On success every documented limit must
// hold: the name matches ^[a-z0-9][a-z0-9_-]{0,63}$ (checked here by hand), the
// source is non-empty valid UTF-8 within the limit and is what the
// payload's `code` decodes to, sha256 is the source's (computed here with OpenSSL's
// one-shot SHA256), version / author non-empty, the runtime supported, the
// entry point empty, an identifier or module:function (a dotted module path
// of at most 128 bytes, doc/cartridges.md); the author signature
// (`author_key` / `author_signature`, doc/security.md §4.5) is present exactly
// when both members are strings, and is then what DecodeCartridgeSignature
// makes of them; verifying it against its own author_key never crashes (the
// seed `signed` is a payload signed as the installer tests' alice, so
// mutations reach the signature checks). On failure the error names a
// payload field. Any violation aborts.
#include <openssl/sha.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "common/base/utf8.h"
#include "common/cartridge/runtime.h"
#include "common/mesh/cartridge_signature.h"
#include "rapidjson/document.h"
#include "services/installer/cartridge_payload.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_cartridge_payload: %s\n%s\n", what, detail.c_str());
  std::abort();
}

bool NameMatchesPattern(std::string_view s) {
  auto lower_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (s.empty() || s.size() > 64 || !lower_digit(s[0])) return false;
  for (char c : s) {
    if (!lower_digit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

bool IsLuaIdentifier(std::string_view s) {
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (s.empty() || s.size() > 64 || !alpha(s[0])) return false;
  for (char c : s) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

// module:function with module = identifier(.identifier)* of at most 128 bytes.
bool IsModuleFunction(std::string_view s) {
  const size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 128) return false;
  if (!IsLuaIdentifier(s.substr(colon + 1))) return false;
  std::string_view module = s.substr(0, colon);
  while (true) {
    const size_t dot = module.find('.');
    if (!IsLuaIdentifier(module.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    module.remove_prefix(dot + 1);
  }
}

std::string Sha256OneShot(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : digest) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 0xf]);
  }
  return hex;
}

bool IsKnownErrorField(std::string_view field) {
  for (std::string_view known :
       {"payload", "name", "code", "version", "author", "runtime", "entry_point", "dependencies",
        "event_type", "description", "author_key", "author_signature"}) {
    if (field == known) return true;
  }
  return field.starts_with("dependencies[") && field.ends_with("]");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace teleclaude::mesh;
  if (size == 0) return 0;
  const int64_t max_bytes = int64_t{data[0]} * 8;
  std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  absl::StatusOr<CartridgeCandidate> c = ParseCartridgePayload(payload, max_bytes, "alpha");
  if (!c.ok()) {
    if (!absl::IsInvalidArgument(c.status())) Fail("not INVALID_ARGUMENT", c.status().ToString());
    const std::string field = PayloadErrorField(c.status());
    if (!IsKnownErrorField(field)) Fail("error names no payload field", c.status().ToString());
    return 0;
  }
  if (!NameMatchesPattern(c->name) || !IsValidCartridgeName(c->name)) Fail("bad name", c->name);
  if (c->version.empty() || c->version.size() > 128) Fail("bad version", c->version);
  if (c->author.empty() || c->author.size() > 256) Fail("bad author", c->author);
  if (c->description.size() > 4096) Fail("description too long", "");
  if (c->dependencies.size() > 64) Fail("too many dependencies", "");
  if (FindCartridgeRuntime(c->runtime) == nullptr) Fail("unsupported runtime", c->runtime);
  if (!c->entry_point.empty() && !IsLuaIdentifier(c->entry_point) &&
      !IsModuleFunction(c->entry_point)) {
    Fail("bad entry point", c->entry_point);
  }
  if (c->source.empty() || static_cast<int64_t>(c->source.size()) > max_bytes ||
      !IsValidUtf8(c->source)) {
    Fail("source breaks the limits", c->source);
  }
  if (c->sha256 != Sha256OneShot(c->source)) Fail("sha256 does not match the source", c->sha256);
  if (c->source_computer != "alpha") Fail("source_computer not recorded", c->source_computer);
  // The source is exactly what `code` decodes to, `code` as RapidJSON finds
  // it: the first of duplicate keys (the installer gets canonical text, which
  // has none). Not compared with Base64Escape(source): non-zero bits in the
  // last character before '=' are accepted (RFC 4648 3.5 allows either).
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseNanAndInfFlag>(payload.data(), payload.size());
  // The signature members: both strings of at most 256 bytes, or both
  // absent / null; decoded exactly as DecodeCartridgeSignature decodes them.
  auto member = [&](const char* name) -> std::optional<std::string_view> {
    if (!doc.HasMember(name) || doc[name].IsNull()) return std::nullopt;
    const rapidjson::Value& v = doc[name];
    if (!v.IsString() || v.GetStringLength() > 256) Fail("signature member accepted", name);
    return std::string_view(v.GetString(), v.GetStringLength());
  };
  const std::optional<std::string_view> key = member("author_key");
  const std::optional<std::string_view> sig = member("author_signature");
  if (key.has_value() != sig.has_value()) Fail("half a signature accepted", "");
  if (c->signature.has_value() != key.has_value()) Fail("signature presence differs", "");
  if (c->signature.has_value()) {
    auto decoded = DecodeCartridgeSignature(key, sig);
    if (!decoded.ok() || !decoded->has_value() ||
        !((*decoded)->author_key == c->signature->author_key) ||
        !((*decoded)->signature == c->signature->signature)) {
      Fail("signature is not the decoded members", std::string(*key));
    }
    // Whatever the input, verification against its own key never crashes.
    (void)VerifyCartridgeSignature(StatementOf(*c), *c->signature, c->signature->author_key);
  }
  const rapidjson::Value& code = doc["code"];
  const absl::string_view code_text(code.GetString(), code.GetStringLength());
  std::string decoded;
  if (!absl::Base64Unescape(code_text, &decoded) || decoded != c->source ||
      code_text.size() != (c->source.size() + 2) / 3 * 4) {
    Fail("source is not the decoded code", std::string(code_text.data(), code_text.size()));
  }
  return 0;
}
