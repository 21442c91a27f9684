// Redis endpoints as URLs (DESIGN §6): `redis://[user:password@]host[:port][/db]`,
// `rediss://...` (the same over TLS; doc/tls.md) and `unix:///path/to.sock[?db=N]`.
#ifndef TELECLAUDE_MESH_COMMON_REDIS_REDIS_URL_H_
#define TELECLAUDE_MESH_COMMON_REDIS_REDIS_URL_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace teleclaude::mesh {

// How a rediss:// connection is secured (the --redis_tls_* flags; doc/tls.md).
// Value type. Paths are PEM files; RedisTlsContext::Create checks them.
struct RedisTlsOptions {
  std::string ca_file;    // CA certificate(s) to trust; empty = the system's CAs
  std::string cert_file;  // client certificate (chain); empty = none
  std::string key_file;   // its private key; set exactly when cert_file is
  // No verification of the server's certificate or host name (TeleClaude's
  // Python transport with CERT_NONE). Encrypts, but trusts anyone.
  bool insecure = false;

  friend bool operator==(const RedisTlsOptions&, const RedisTlsOptions&) = default;
};

// Where a Redis server is and how to log in. Value type.
struct RedisEndpoint {
  std::string host;  // TCP host; empty when unix_path is set
  int port = 6379;
  bool use_tls = false;   // rediss://: TLS over TCP, secured as `tls` says
  RedisTlsOptions tls;    // used only when use_tls
  std::string unix_path;  // Unix socket path; empty for TCP
  std::string user;       // ACL user (Redis 6+); empty = default user
  std::string password;   // empty = no AUTH
  int db = 0;

  // "redis://user@host:port/db", "rediss://..." or "unix:///path?db=N" —
  // never the password.
  std::string ToString() const;

  friend bool operator==(const RedisEndpoint&, const RedisEndpoint&) = default;
};

// Parses a Redis URL. User and password are percent-decoded. Errors are
// INVALID_ARGUMENT with one line naming the problem and the expected form,
// e.g. `redis_url: port "abc" is not a number; expected
// redis[s]://[user:password@]host:port/db or unix:///path`. `rediss://` sets
// use_tls; the TLS options stay default (they come from flags).
absl::StatusOr<RedisEndpoint> ParseRedisUrl(std::string_view url);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_REDIS_REDIS_URL_H_
