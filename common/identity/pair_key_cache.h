// Pair keys: the MAC keys two computers share without ever sending them
// (doc/security.md "Message authentication"). From the static-static X25519
// agreement q of the two identity keys (their Ed25519 keys in X25519 form),
// the key for messages from S to R is
//
//   K(S->R) = BLAKE2b-256(transcript "teleclaude-mesh pair-key v1"
//                         [q, public key of S, public key of R,
//                          name of S, name of R])
//
// (libsodium's crypto_kx hashes q and both public keys the same way; the
// domain tag and the names are ours). Each side computes both directions;
// what one sends with, the other verifies with. Deriving costs two scalar
// multiplications (tens of µs, tests/bench/identity_bench.cc), a MAC about a
// microsecond, so keys are cached per peer.
#ifndef TELECLAUDE_MESH_COMMON_IDENTITY_PAIR_KEY_CACHE_H_
#define TELECLAUDE_MESH_COMMON_IDENTITY_PAIR_KEY_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/identity/identity_key.h"
#include "common/identity/mac_key.h"
#include "common/identity/public_key.h"

namespace teleclaude::mesh {

// The two MAC keys of one peer, from this computer's side. Immutable.
struct PairKeys {
  MacKey send;     // K(self -> peer): authenticates what this computer sends
  MacKey receive;  // K(peer -> self): verifies what the peer sends
};

// Derives the pair keys of `self` (named `self_name`) with the peer
// `peer_name` whose public key is `peer_key`. INVALID_ARGUMENT when the
// agreement gives an all-zero secret (not possible for keys PublicKey
// accepts; checked all the same).
absl::StatusOr<PairKeys> DerivePairKeys(const IdentityKey& self, std::string_view self_name,
                                        std::string_view peer_name, const PublicKey& peer_key);

// Pair keys per peer, derived on first use and kept. A peer whose key
// changed (the caller passes the key it now trusts) gets new keys; the old
// ones are dropped. At most `max_entries` peers are kept; when full, the
// cache is emptied and refilled as peers are used again (a mesh has far
// fewer computers; only pinned peers reach it). Thread-safe: lookups share a
// reader lock; a derivation runs outside the lock.
class PairKeyCache {
 public:
  struct Options {
    size_t max_entries = 4096;
  };

  // `self` must outlive the cache.
  PairKeyCache(const IdentityKey* self, std::string self_name, Options options);
  PairKeyCache(const IdentityKey* self, std::string self_name)
      : PairKeyCache(self, std::move(self_name), Options()) {}

  // The pair keys for `peer_name` with `peer_key`; errors as DerivePairKeys.
  absl::StatusOr<std::shared_ptr<const PairKeys>> Get(std::string_view peer_name,
                                                      const PublicKey& peer_key);

  // Number of peers cached, and of derivations done so far (tests, stats).
  size_t size() const;
  int64_t derivations() const;

 private:
  struct Entry {
    PublicKey peer_key;
    std::shared_ptr<const PairKeys> keys;
  };

  const IdentityKey* const self_;
  const std::string self_name_;
  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  int64_t derivations_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_IDENTITY_PAIR_KEY_CACHE_H_
