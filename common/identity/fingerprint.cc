#include "common/identity/fingerprint.h"

#include <sodium/crypto_hash_sha256.h>

#include <algorithm>

#include "common/base/show_bytes.h"
#include "common/base/strings.h"
#include "common/identity/internal/sodium.h"
#include "common/identity/transcript.h"

namespace teleclaude::mesh {

namespace {

constexpr std::string_view kDomain = "teleclaude-mesh fingerprint v1";
constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
constexpr size_t kGroup = 4;

// Value of a base32 character (either case), or -1.
int Base32Value(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

}  // namespace

Fingerprint Fingerprint::Of(const PublicKey& key) {
  identity_internal::InitSodium();
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  WriteTranscript(kDomain, {key.view()}, [&state](std::string_view piece) {
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(piece.data()),
                              piece.size());
  });
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  Bytes bytes;
  std::copy(digest, digest + kBytes, bytes.begin());
  return Fingerprint(bytes);
}

std::string Fingerprint::ToString() const {
  // 160 bits = 32 characters of 5 bits, most significant bit first.
  std::string out;
  out.reserve(kTextLength);
  uint32_t buffer = 0;
  int bits = 0;
  size_t chars = 0;
  for (uint8_t b : bytes_) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      if (chars > 0 && chars % kGroup == 0) out.push_back('-');
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
      ++chars;
    }
  }
  return out;
}

absl::StatusOr<Fingerprint> Fingerprint::Parse(std::string_view field, std::string_view text) {
  auto error = [&] {
    return absl::InvalidArgumentError(
        Cat(field, ": expected a key fingerprint (8 groups of 4 characters a-z 2-7 joined by '-', ",
            "e.g. mzxw-6ytb-oi3d-qnzr-gu4t-cnbv-ga2d-enrq), got ", ShowBytes(text)));
  };
  if (text.size() != kTextLength) return error();
  Bytes bytes;
  size_t n = 0;
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i % (kGroup + 1) == kGroup) {
      if (text[i] != '-') return error();
      continue;
    }
    const int v = Base32Value(text[i]);
    if (v < 0) return error();
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bytes[n++] = static_cast<uint8_t>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  // 32 characters carry exactly 160 bits: nothing is left over.
  return Fingerprint(bytes);
}

}  // namespace teleclaude::mesh
