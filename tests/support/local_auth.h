// Channels that authenticate to a computer's services as its owner or as its
// own services (doc/security.md "Local RPC authentication"), for tests that
// call the real binaries over gRPC.
#ifndef TELECLAUDE_MESH_TESTS_SUPPORT_LOCAL_AUTH_H_
#define TELECLAUDE_MESH_TESTS_SUPPORT_LOCAL_AUTH_H_

#include <grpcpp/channel.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/identity/local_tokens.h"

namespace teleclaude::mesh::testing {

// The tokens in `auth_dir` (the services' --auth_dir, by default their
// --data_dir), created there when no service has yet: a test may call this
// before starting the services, which then load the same. CHECK-fails on a
// file error (a broken test setup).
LocalTokens TokensIn(const std::filesystem::path& auth_dir);

// A channel to `addr` carrying the owner's / the services' token of
// `auth_dir` (TokensIn). `max_message_bytes` as ChannelOptions.
std::shared_ptr<grpc::Channel> OwnerChannel(const std::string& addr,
                                            const std::filesystem::path& auth_dir,
                                            int max_message_bytes = 4 << 20);
std::shared_ptr<grpc::Channel> ServiceChannel(const std::string& addr,
                                              const std::filesystem::path& auth_dir,
                                              int max_message_bytes = 4 << 20);

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SUPPORT_LOCAL_AUTH_H_
