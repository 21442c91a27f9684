// How a call to this computer's services carries its token, and the two
// token kinds (doc/security.md "Local RPC authentication"). Shared by the
// server's check (call_authenticator.h), the clients (channel.h) and the
// token files (common/identity/local_tokens.h).
#ifndef TELECLAUDE_MESH_COMMON_GRPC_AUTH_TOKEN_H_
#define TELECLAUDE_MESH_COMMON_GRPC_AUTH_TOKEN_H_

#include <string_view>

namespace teleclaude::mesh {

// The metadata entry: "authorization: Bearer <token>".
inline constexpr std::string_view kAuthMetadataKey = "authorization";
inline constexpr std::string_view kBearerPrefix = "Bearer ";

// A token is its role's prefix and 64 lowercase hex digits.
inline constexpr std::string_view kServiceTokenPrefix = "teleclaude-service-";
inline constexpr std::string_view kOwnerTokenPrefix = "teleclaude-owner-";

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_AUTH_TOKEN_H_
