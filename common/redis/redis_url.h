// Redis endpoints as URLs (DESIGN §6): `redis://[user:password@]host[:port][/db]`
// and `unix:///path/to.sock[?db=N]`.
#ifndef TELECLAUDE_MESH_COMMON_REDIS_REDIS_URL_H_
#define TELECLAUDE_MESH_COMMON_REDIS_REDIS_URL_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace teleclaude::mesh {

// Where a Redis server is and how to log in. Value type.
struct RedisEndpoint {
  std::string host;  // TCP host; empty when unix_path is set
  int port = 6379;
  std::string unix_path;  // Unix socket path; empty for TCP
  std::string user;       // ACL user (Redis 6+); empty = default user
  std::string password;   // empty = no AUTH
  int db = 0;

  // "redis://user@host:port/db" or "unix:///path?db=N" — never the password.
  std::string ToString() const;

  friend bool operator==(const RedisEndpoint&, const RedisEndpoint&) = default;
};

// Parses a Redis URL. User and password are percent-decoded. Errors are
// INVALID_ARGUMENT with one line naming the problem and the expected form,
// e.g. `redis_url: port "abc" is not a number; expected
// redis://[user:password@]host:port/db or unix:///path`.
absl::StatusOr<RedisEndpoint> ParseRedisUrl(std::string_view url);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_REDIS_REDIS_URL_H_
