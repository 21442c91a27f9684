#include "common/mesh/peer_name.h"

#include <cstdint>

#include "common/base/show_bytes.h"
#include "common/base/strings.h"
#include "common/base/utf8.h"
#include "common/json/quote.h"

namespace teleclaude::mesh {
namespace {

// The code point of the well-formed sequence of `len` bytes at s[i].
uint32_t CodePoint(std::string_view s, size_t i, size_t len) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (len == 1) return c;
  uint32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

bool IsUnprintable(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

}  // namespace

absl::Status ValidatePeerName(std::string_view field, std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError(Cat(field, ": is empty"));
  if (name.size() > kMaxPeerNameBytes) {
    return absl::InvalidArgumentError(Cat(field, ": ", EscapeForMessage(name.substr(0, 32)),
                                          "... is ", name.size(), " bytes long, more than ",
                                          kMaxPeerNameBytes));
  }
  for (size_t i = 0; i < name.size();) {
    const size_t len = Utf8SequenceLength(name, i);
    if (len == 0) {
      return absl::InvalidArgumentError(
          Cat(field, ": ", ShowBytes(name, 64), " is not valid UTF-8 (byte ", i, ")"));
    }
    if (IsUnprintable(CodePoint(name, i, len))) {
      return absl::InvalidArgumentError(
          Cat(field, ": ", ShowBytes(name, 64), " contains a control character or line break"));
    }
    i += len;
  }
  return absl::OkStatus();
}

bool IsPlainPeerName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    if (!plain) return false;
  }
  return true;
}

std::string DisplayPeerName(std::string_view name) {
  if (IsPlainPeerName(name)) return std::string(name);
  return json::Quote(EscapeForMessage(name));
}

}  // namespace teleclaude::mesh
