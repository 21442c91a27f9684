// The short, human-comparable name of a public identity key
// (doc/security.md "Fingerprints"): the first 20 bytes (160 bits) of the
// SHA-256 of the transcript (transcript.h) "teleclaude-mesh fingerprint v1"
// [Ed25519 public key],
// written as 32 lower-case base32 characters (RFC 4648 alphabet a-z 2-7) in
// 8 groups of 4 joined by '-':
//
//   mzxw-6ytb-oi3d-qnzr-gu4t-cnbv-ga2d-enrq
//
// 160 bits: impersonating a computer whose fingerprint is pinned means
// finding a key with the same fingerprint, a second preimage costing about
// 2^160 hash evaluations (2^128 even against 2^32 pinned keys at once). Two
// keys with the same fingerprint (a 2^80 birthday search) would both be the
// searcher's own, which gains nothing. Value type; immutable; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_IDENTITY_FINGERPRINT_H_
#define TELECLAUDE_MESH_COMMON_IDENTITY_FINGERPRINT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "common/identity/public_key.h"

namespace teleclaude::mesh {

class Fingerprint {
 public:
  static constexpr size_t kBytes = 20;
  // Length of the text form: 32 characters and 7 dashes.
  static constexpr size_t kTextLength = 39;
  using Bytes = std::array<uint8_t, kBytes>;

  static Fingerprint Of(const PublicKey& key);

  // Parses the text form; letters may be upper or lower case, the dashes
  // must be where ToString() puts them. INVALID_ARGUMENT "<field>: ..." on
  // anything else.
  static absl::StatusOr<Fingerprint> Parse(std::string_view field, std::string_view text);

  // The canonical text form (lower case).
  std::string ToString() const;
  const Bytes& bytes() const { return bytes_; }

  friend bool operator==(const Fingerprint&, const Fingerprint&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Fingerprint& f) {
    return H::combine_contiguous(std::move(h), f.bytes_.data(), f.bytes_.size());
  }

 private:
  explicit Fingerprint(const Bytes& bytes) : bytes_(bytes) {}

  Bytes bytes_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_IDENTITY_FINGERPRINT_H_
