// Authentication and authorisation of every call to this computer's gRPC
// services (doc/security.md "Local RPC authentication").
//
// Two callers exist: the computer's own services (the service token) and its
// owner (the owner token: telec, grpcurl, scripts). Each sends its token as
// the metadata "authorization: Bearer <token>"; the role is the token's
// prefix ("teleclaude-service-" / "teleclaude-owner-", common/identity/
// local_tokens.h), and the whole token is compared with this computer's copy
// in constant time (libsodium's sodium_memcmp). Then the method's access, from
// one table (AccessOf, call_authenticator.cc):
//
//   kOpen             no token: grpc.health.v1.Health/*, grpc.reflection.*/*
//   kServiceOnly      Installer/OnNotification, RecordInvocations,
//                     ReportCartridgeFailure, ListActive: what egress calls
//                     on the installer
//   kOwnerOrService   what telec reads or emits, and what the installer and
//                     ingress call on egress (Submit, ResolveNotification,
//                     ListNotifications, ReloadCartridges)
//   kOwnerOnly        the owner's decisions (Installer/Activate, Reject) and
//                     EVERY method not in the table: the table fails closed,
//                     so an RPC added later needs the owner's token until it
//                     is classified
//
// Pipeline/Submit of an event with ORIGIN_MESH is service-only too: that
// depends on the request, so Submit's handler checks RoleOf(context).
//
// The check runs in one place for every call, before any handler: gRPC's
// server-side auth metadata processor, attached to the listening port by
// ServerCredentials() (gRPC's C++ interceptors cannot refuse a call, and
// its C++ InsecureServerCredentials refuse a processor; the C core accepts
// one on insecure credentials). Refusals: UNAUTHENTICATED without a token or
// with one that is not this computer's, PERMISSION_DENIED with the owner's
// token on a service-only method. The token stays in the call's metadata,
// where RoleOf finds it: the processor has no per-call place to put the role
// (the auth context it is given is the connection's, shared by every call).
//
// Thread-safe: immutable after construction.
#ifndef TELECLAUDE_MESH_COMMON_GRPC_CALL_AUTHENTICATOR_H_
#define TELECLAUDE_MESH_COMMON_GRPC_CALL_AUTHENTICATOR_H_

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/grpc/auth_token.h"

namespace teleclaude::mesh {

enum class CallerRole { kNone, kService, kOwner };

// "none" / "service" / "owner".
std::string_view CallerRoleName(CallerRole role);

class CallAuthenticator {
 public:
  // `service_token` and `owner_token`: this computer's two tokens (each with
  // its role prefix). `owner_token_hint`: where the owner finds the owner
  // token, named in the refusal of a call without one (e.g.
  // "/home/u/.teleclaude/owner.token").
  CallAuthenticator(std::string_view service_token, std::string_view owner_token,
                    std::string owner_token_hint);
  ~CallAuthenticator();
  CallAuthenticator(const CallAuthenticator&) = delete;
  CallAuthenticator& operator=(const CallAuthenticator&) = delete;

  // Who may call `method` ("/package.Service/Method"); kOwnerOnly for a
  // method not in the table (fails closed).
  enum class Access { kOpen, kServiceOnly, kOwnerOrService, kOwnerOnly };
  static Access AccessOf(std::string_view method);

  // The decision for one call of `method` with the value of its
  // "authorization" metadata (nullopt: none sent). OK with the caller's role
  // (kNone for an open method called without a token), or the refusal.
  struct Decision {
    grpc::Status status;
    CallerRole role = CallerRole::kNone;
  };
  Decision Check(std::string_view method, std::optional<std::string_view> authorization) const;

  // Insecure (plaintext) server credentials whose every call passes Check()
  // first.
  // Keeps `self` alive as long as the credentials (and the server) live.
  static std::shared_ptr<grpc::ServerCredentials> ServerCredentials(
      std::shared_ptr<const CallAuthenticator> self);

  // The role of the call of `context`: its "authorization" metadata checked
  // again against this computer's tokens (kNone without one, or with one
  // that is not this computer's). The call's own token, never the
  // connection's: one connection may carry calls of both roles.
  CallerRole RoleOf(const grpc::ServerContextBase& context) const;

 private:
  // The expected token of `role`.
  std::string_view TokenOf(CallerRole role) const;
  // The role "Bearer <token>" proves; kNone when the token is not one of
  // this computer's.
  CallerRole TokenRole(std::string_view authorization) const;

  // Not const: wiped by the destructor.
  std::string service_token_;
  std::string owner_token_;
  const std::string owner_token_hint_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_GRPC_CALL_AUTHENTICATOR_H_
