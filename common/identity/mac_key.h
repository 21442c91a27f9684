// A MAC key for authenticated mesh messages (doc/security.md "Message
// authentication"): XChaCha20-Poly1305 (libsodium
// crypto_aead_xchacha20poly1305_ietf) with an empty plaintext and the
// transcript (transcript.h) as associated data — the AEAD used as a MAC, as
// GMAC uses GCM. Each tag carries its own 24-byte nonce: 16 random bytes
// chosen once per process, then a 64-bit counter, so no two tags of a
// process share a nonce and two processes share one with probability
// ~2^-128 (random 96-bit nonces would not be safe for a key that lives for
// years at tens of thousands of messages a second). Value type; immutable
// after construction; thread-safe (the nonce counter is atomic). The key is
// wiped when the object is destroyed.
#ifndef TELECLAUDE_MESH_COMMON_IDENTITY_MAC_KEY_H_
#define TELECLAUDE_MESH_COMMON_IDENTITY_MAC_KEY_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace teleclaude::mesh {

class MacKey {
 public:
  static constexpr size_t kKeyBytes = 32;
  static constexpr size_t kNonceBytes = 24;
  static constexpr size_t kPolyTagBytes = 16;
  // A tag: the nonce, then the Poly1305 tag.
  static constexpr size_t kTagBytes = kNonceBytes + kPolyTagBytes;
  using Key = std::array<uint8_t, kKeyBytes>;
  using Tag = std::array<uint8_t, kTagBytes>;

  explicit MacKey(const Key& key);
  ~MacKey();
  MacKey(const MacKey&) = default;
  MacKey& operator=(const MacKey&) = default;

  // A tag of the transcript of (domain, fields) under a fresh nonce.
  Tag Compute(std::string_view domain, std::initializer_list<std::string_view> fields) const;
  // Whether `tag` authenticates that transcript under this key (with the
  // nonce it carries; libsodium compares in constant time).
  bool Verify(std::string_view domain, std::initializer_list<std::string_view> fields,
              const Tag& tag) const;

  // Wire form of a tag: "v1:" + standard padded base64 (3 + 56 characters).
  static std::string TagToWire(const Tag& tag);
  // Appends the wire form to `out` (no allocation beyond `out`).
  static void AppendTagWire(const Tag& tag, std::string* out);
  // Parses the wire form; INVALID_ARGUMENT "<field>: ..." otherwise.
  static absl::StatusOr<Tag> TagFromWire(std::string_view field, std::string_view text);

 private:
  Key key_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_IDENTITY_MAC_KEY_H_
