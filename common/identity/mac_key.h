// A MAC key: keyed BLAKE2b with a 32-byte key and a 32-byte tag (libsodium
// crypto_generichash, a PRF and MAC by design, RFC 7693 §2.5), over a
// transcript (transcript.h). The keyed initial state is computed once, so a
// MAC costs only the hashing of its input (doc/security.md "Message
// authentication"). Value type; immutable after construction; thread-safe.
// The key material is wiped when the object is destroyed.
#ifndef TELECLAUDE_MESH_COMMON_IDENTITY_MAC_KEY_H_
#define TELECLAUDE_MESH_COMMON_IDENTITY_MAC_KEY_H_

#include <sodium/crypto_generichash.h>

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
  static constexpr size_t kTagBytes = 32;
  using Key = std::array<uint8_t, kKeyBytes>;
  using Tag = std::array<uint8_t, kTagBytes>;

  explicit MacKey(const Key& key);
  ~MacKey();
  MacKey(const MacKey&) = default;
  MacKey& operator=(const MacKey&) = default;

  // The MAC of the transcript of (domain, fields).
  Tag Compute(std::string_view domain, std::initializer_list<std::string_view> fields) const;
  // Whether `tag` is that MAC (compared in constant time).
  bool Verify(std::string_view domain, std::initializer_list<std::string_view> fields,
              const Tag& tag) const;

  // Wire form of a tag: "v1:" + standard padded base64 (47 characters).
  static std::string TagToWire(const Tag& tag);
  // Appends the wire form to `out` (no allocation beyond `out`).
  static void AppendTagWire(const Tag& tag, std::string* out);
  // Parses the wire form; INVALID_ARGUMENT "<field>: ..." otherwise.
  static absl::StatusOr<Tag> TagFromWire(std::string_view field, std::string_view text);

 private:
  crypto_generichash_state keyed_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_IDENTITY_MAC_KEY_H_
