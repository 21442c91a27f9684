// libsodium plumbing shared by common/identity: one-time initialisation and
// strict base64 of fixed-size byte strings. Not part of the library's API.
// Stateless functions; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_IDENTITY_INTERNAL_SODIUM_H_
#define TELECLAUDE_MESH_COMMON_IDENTITY_INTERNAL_SODIUM_H_

#include <sodium/crypto_generichash.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace teleclaude::mesh::identity_internal {

// Calls sodium_init() once per process; CHECK-fails when libsodium cannot
// initialise (no usable randomness source: a broken host, not an input).
void InitSodium();

// Standard padded base64 (RFC 4648 §4) of `size` bytes.
std::string Base64(const uint8_t* data, size_t size);

// Decodes `text`, which must be exactly the standard padded base64 of `size`
// bytes (canonical: no whitespace, no non-zero padding bits), into `out`. On
// failure INVALID_ARGUMENT "<field>: expected <what> (base64 of <size>
// bytes), got ...".
absl::Status DecodeBase64Exact(std::string_view field, std::string_view what, std::string_view text,
                               uint8_t* out, size_t size);

// "v1:" + Base64(data): the wire form of signatures and MAC tags (the
// version names the signed-bytes layout and the algorithms,
// doc/security.md).
std::string VersionedBase64(const uint8_t* data, size_t size);

// Reverses VersionedBase64: `text` must be "v1:" followed by exactly the
// base64 of `size` bytes. Errors name `field` and say when the version is
// not one this computer reads.
absl::Status DecodeVersionedBase64(std::string_view field, std::string_view what,
                                   std::string_view text, uint8_t* out, size_t size);

// A sink for WriteTranscript (common/identity/transcript.h) that feeds a
// BLAKE2b state. Short pieces (lengths, names) are gathered and absorbed in
// one call: each update call costs more than hashing a few bytes. Call
// Flush() after the last piece.
class Blake2bSink {
 public:
  explicit Blake2bSink(crypto_generichash_state* state) : state_(state) {}
  void operator()(std::string_view bytes);
  void Flush();

 private:
  crypto_generichash_state* state_;
  size_t used_ = 0;
  unsigned char buffer_[256];
};

}  // namespace teleclaude::mesh::identity_internal

#endif  // TELECLAUDE_MESH_COMMON_IDENTITY_INTERNAL_SODIUM_H_
