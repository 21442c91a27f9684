// Fixed identity keys for the fuzz targets of signed and authenticated
// formats: "alpha" and "beta", the seeds of RFC 8032 §7.1 tests 1 and 2
// (the keys of tests/common/identity/test_keys.h, so seeds made with them
// carry valid signatures and MACs).
#ifndef TELECLAUDE_MESH_TESTS_FUZZ_FUZZ_KEYS_H_
#define TELECLAUDE_MESH_TESTS_FUZZ_FUZZ_KEYS_H_

#include <memory>

#include "common/identity/identity_key.h"
#include "common/identity/pair_key_cache.h"

namespace teleclaude::mesh::fuzz {

inline const IdentityKey& AlphaKey() {
  static const std::unique_ptr<IdentityKey> key =
      IdentityKey::FromSeed({0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
                             0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
                             0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60});
  return *key;
}

inline const IdentityKey& BetaKey() {
  static const std::unique_ptr<IdentityKey> key =
      IdentityKey::FromSeed({0x4c, 0xcd, 0x08, 0x9b, 0x28, 0xff, 0x96, 0xda, 0x9d, 0xb6, 0xc3,
                             0x46, 0xec, 0x11, 0x4e, 0x0f, 0x5b, 0x8a, 0x31, 0x9f, 0x35, 0xab,
                             0xa6, 0x24, 0xda, 0x8c, 0xf6, 0xed, 0x4f, 0xb8, 0xa6, 0xfb});
  return *key;
}

// alpha's pair keys with beta, and beta's with alpha.
inline const PairKeys& AlphaWithBeta() {
  static const PairKeys keys = *DerivePairKeys(AlphaKey(), "alpha", "beta", BetaKey().public_key());
  return keys;
}
inline const PairKeys& BetaWithAlpha() {
  static const PairKeys keys = *DerivePairKeys(BetaKey(), "beta", "alpha", AlphaKey().public_key());
  return keys;
}

}  // namespace teleclaude::mesh::fuzz

#endif  // TELECLAUDE_MESH_TESTS_FUZZ_FUZZ_KEYS_H_
