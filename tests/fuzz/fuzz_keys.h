// Fixed identity keys for the fuzz targets of signed and authenticated
// formats: "alpha" and "beta" of tests/common/identity/test_keys.h (the
// seeds of RFC 8032 §7.1 tests 1 and 2), so seed inputs made with them carry
// valid signatures and MACs. Made once per process.
#ifndef TELECLAUDE_MESH_TESTS_FUZZ_FUZZ_KEYS_H_
#define TELECLAUDE_MESH_TESTS_FUZZ_FUZZ_KEYS_H_

#include <memory>

#include "common/identity/identity_key.h"
#include "common/identity/pair_key_cache.h"
#include "tests/common/identity/test_keys.h"

namespace teleclaude::mesh::fuzz {

inline const IdentityKey& AlphaKey() {
  static const std::unique_ptr<IdentityKey> key = testing::AlphaKey();
  return *key;
}

inline const IdentityKey& BetaKey() {
  static const std::unique_ptr<IdentityKey> key = testing::BetaKey();
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
