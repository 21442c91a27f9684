// The two secrets that authenticate calls to this computer's gRPC services
// (doc/security.md "Local RPC authentication"):
//
//   {auth_dir}/service.token  the computer's own services (egress, ingress,
//                             installer calling each other);
//   {auth_dir}/owner.token    its owner: telec, grpcurl, scripts.
//
// Each file is one line, the token itself: "teleclaude-service-" or
// "teleclaude-owner-" and 64 hex digits (32 random bytes), mode 0600, owned
// by the user running the services, created atomically at the first start of
// any service (secret_file.h). A client sends a token as call metadata
// "authorization: Bearer <token>"; the role is the token's prefix, and the
// server compares the whole token with its own copy in constant time
// (common/grpc/call_authenticator.h).
//
// Thread-safe: immutable after construction.
#ifndef TELECLAUDE_MESH_COMMON_IDENTITY_LOCAL_TOKENS_H_
#define TELECLAUDE_MESH_COMMON_IDENTITY_LOCAL_TOKENS_H_

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/grpc/call_authenticator.h"
#include "common/grpc/channel.h"
#include "common/identity/secret_file.h"

namespace teleclaude::mesh {

class LocalTokens {
 public:
  static constexpr std::string_view kServiceFile = "service.token";
  static constexpr std::string_view kOwnerFile = "owner.token";

  // Loads both tokens from `auth_dir`, creating each missing file (see
  // LoadOrCreateSecretFile). Errors: the file's refusal (FAILED_PRECONDITION
  // "service token PATH: mode 0644 lets other users ...; run chmod 600 PATH
  // ...", or "...: not a token file ..."), or INTERNAL for the file system.
  static absl::StatusOr<LocalTokens> LoadOrCreate(const std::filesystem::path& auth_dir);
  static absl::StatusOr<LocalTokens> LoadOrCreate(const std::filesystem::path& auth_dir,
                                                  uid_t owner);

  // Reads one existing token file (telec's --auth_token_file, or
  // {auth_dir}/owner.token): the same checks, NOT_FOUND when there is none.
  // The token's role is its prefix; either role is accepted here.
  static absl::StatusOr<SecretBytes> LoadTokenFile(const std::filesystem::path& path);

  LocalTokens(LocalTokens&&) = default;
  LocalTokens& operator=(LocalTokens&&) = default;

  std::string_view service() const { return service_.view(); }
  std::string_view owner() const { return owner_.view(); }
  const std::filesystem::path& owner_path() const { return owner_path_; }

  // The check of every call to a service of this computer, for
  // GrpcServerOptions::authenticator.
  std::shared_ptr<const CallAuthenticator> Authenticator() const;
  // Channel options for calls to the computer's other services: the service
  // token, and `max_message_bytes`.
  ChannelOptions ServiceChannel(int max_message_bytes) const;

 private:
  LocalTokens(SecretBytes service, SecretBytes owner, std::filesystem::path owner_path)
      : service_(std::move(service)),
        owner_(std::move(owner)),
        owner_path_(std::move(owner_path)) {}

  SecretBytes service_;
  SecretBytes owner_;
  std::filesystem::path owner_path_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_IDENTITY_LOCAL_TOKENS_H_
