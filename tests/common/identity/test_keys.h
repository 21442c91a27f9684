// Identity keys with known values for tests: the secret keys of RFC 8032
// §7.1 tests 1 and 2 as seeds, named alpha and beta. Expected values in the
// tests (public keys, signatures, fingerprints, pair keys, MACs) were
// computed independently of this code, with Python's `cryptography`
// (OpenSSL) and `hashlib`, from the formats of doc/security.md.
#ifndef TELECLAUDE_MESH_TESTS_COMMON_IDENTITY_TEST_KEYS_H_
#define TELECLAUDE_MESH_TESTS_COMMON_IDENTITY_TEST_KEYS_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "common/identity/identity_key.h"
#include "glog/logging.h"

namespace teleclaude::mesh::testing {

inline std::string FromHex(std::string_view hex) {
  return absl::HexStringToBytes(absl::string_view(hex.data(), hex.size()));
}

inline std::string ToHex(std::string_view bytes) {
  return absl::BytesToHexString(absl::string_view(bytes.data(), bytes.size()));
}

template <typename Array>
std::string ToHex(const Array& bytes) {
  return ToHex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

inline std::unique_ptr<IdentityKey> KeyFromHexSeed(std::string_view hex) {
  const std::string bytes = FromHex(hex);
  CHECK_EQ(bytes.size(), IdentityKey::kSeedBytes);
  IdentityKey::Seed seed;
  std::copy(bytes.begin(), bytes.end(), seed.begin());
  return IdentityKey::FromSeed(seed);
}

// RFC 8032 §7.1 TEST 1 and TEST 2.
inline constexpr std::string_view kAlphaSeedHex =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
inline constexpr std::string_view kAlphaPublicKeyHex =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
inline constexpr std::string_view kAlphaFingerprint = "x2dz-vsp7-rjue-4zt6-ckvj-yoyq-vqbr-766f";
inline constexpr std::string_view kBetaSeedHex =
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
inline constexpr std::string_view kBetaPublicKeyHex =
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
inline constexpr std::string_view kBetaFingerprint = "kciz-b54e-drls-46ep-mdar-7bze-bwar-mawn";

inline std::unique_ptr<IdentityKey> AlphaKey() { return KeyFromHexSeed(kAlphaSeedHex); }
inline std::unique_ptr<IdentityKey> BetaKey() { return KeyFromHexSeed(kBetaSeedHex); }

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_COMMON_IDENTITY_TEST_KEYS_H_
