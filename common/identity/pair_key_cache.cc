#include "common/identity/pair_key_cache.h"

#include <sodium/crypto_generichash.h>
#include <sodium/utils.h>

#include <utility>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/identity/internal/sodium.h"
#include "common/identity/transcript.h"

namespace teleclaude::mesh {

namespace {

constexpr std::string_view kDomain = "teleclaude-mesh pair-key v1";

MacKey::Key DirectionKey(std::string_view shared, const PublicKey& from_key,
                         const PublicKey& to_key, std::string_view from_name,
                         std::string_view to_name) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, MacKey::kKeyBytes);
  identity_internal::Blake2bSink sink(&state);
  WriteTranscript(kDomain, {shared, from_key.view(), to_key.view(), from_name, to_name}, sink);
  sink.Flush();
  MacKey::Key key;
  crypto_generichash_final(&state, key.data(), key.size());
  return key;
}

}  // namespace

absl::StatusOr<PairKeys> DerivePairKeys(const IdentityKey& self, std::string_view self_name,
                                        std::string_view peer_name, const PublicKey& peer_key) {
  TM_ASSIGN_OR_RETURN(IdentityKey::SharedSecret q, self.Agree(peer_key));
  const std::string_view shared(reinterpret_cast<const char*>(q.data()), q.size());
  MacKey::Key send = DirectionKey(shared, self.public_key(), peer_key, self_name, peer_name);
  MacKey::Key receive = DirectionKey(shared, peer_key, self.public_key(), peer_name, self_name);
  PairKeys keys{MacKey(send), MacKey(receive)};
  sodium_memzero(q.data(), q.size());
  sodium_memzero(send.data(), send.size());
  sodium_memzero(receive.data(), receive.size());
  return keys;
}

PairKeyCache::PairKeyCache(const IdentityKey* self, std::string self_name, Options options)
    : self_(self), self_name_(std::move(self_name)), options_(options) {}

absl::StatusOr<std::shared_ptr<const PairKeys>> PairKeyCache::Get(std::string_view peer_name,
                                                                  const PublicKey& peer_key) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = entries_.find(ToAbsl(peer_name));
    if (it != entries_.end() && it->second.peer_key == peer_key) return it->second.keys;
  }
  TM_ASSIGN_OR_RETURN(PairKeys derived, DerivePairKeys(*self_, self_name_, peer_name, peer_key));
  auto keys = std::make_shared<const PairKeys>(std::move(derived));
  absl::MutexLock lock(&mu_);
  ++derivations_;
  if (entries_.size() >= options_.max_entries && !entries_.contains(ToAbsl(peer_name))) {
    entries_.clear();
  }
  entries_.insert_or_assign(std::string(peer_name), Entry{peer_key, keys});
  return keys;
}

size_t PairKeyCache::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return entries_.size();
}

int64_t PairKeyCache::derivations() const {
  absl::ReaderMutexLock lock(&mu_);
  return derivations_;
}

}  // namespace teleclaude::mesh
