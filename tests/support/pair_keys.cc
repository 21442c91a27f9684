#include "tests/support/pair_keys.h"

#include <memory>

#include "common/base/status_macros.h"
#include "common/identity/identity_key.h"

namespace teleclaude::mesh::testing {

absl::StatusOr<PairKeys> PairKeysBetween(const std::filesystem::path& self_data_dir,
                                         std::string_view self_name,
                                         const std::filesystem::path& peer_data_dir,
                                         std::string_view peer_name) {
  TM_ASSIGN_OR_RETURN(std::unique_ptr<IdentityKey> self,
                      IdentityKey::LoadOrCreate(IdentityKey::PathIn(self_data_dir)));
  TM_ASSIGN_OR_RETURN(std::unique_ptr<IdentityKey> peer,
                      IdentityKey::LoadOrCreate(IdentityKey::PathIn(peer_data_dir)));
  return DerivePairKeys(*self, self_name, peer_name, peer->public_key());
}

}  // namespace teleclaude::mesh::testing
