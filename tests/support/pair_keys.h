// The pair keys two computers authenticate mesh messages with
// (doc/security.md §7), from the identity keys in their data dirs — for tests
// that write a computer's messages to a peer's stream themselves, as its
// egress would (common/mesh/mesh_message.h EncodeAuthenticatedMeshMessage).
#ifndef TELECLAUDE_MESH_TESTS_SUPPORT_PAIR_KEYS_H_
#define TELECLAUDE_MESH_TESTS_SUPPORT_PAIR_KEYS_H_

#include <filesystem>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/identity/pair_key_cache.h"

namespace teleclaude::mesh::testing {

// The pair keys of computer `self_name`, whose identity key is in
// `self_data_dir`, with `peer_name`, whose key is in `peer_data_dir`:
// PairKeys::send authenticates what `self_name` sends to `peer_name`. Each
// key is read with IdentityKey::LoadOrCreate (created when missing); its
// errors and DerivePairKeys' are returned as they are.
absl::StatusOr<PairKeys> PairKeysBetween(const std::filesystem::path& self_data_dir,
                                         std::string_view self_name,
                                         const std::filesystem::path& peer_data_dir,
                                         std::string_view peer_name);

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SUPPORT_PAIR_KEYS_H_
