// One connection to a Redis server as a byte stream: TCP, a Unix socket, or
// TLS over TCP (rediss://, doc/tls.md). RedisClient speaks the protocol over
// it (RESP commands, hiredis' reply reader), so every kind of endpoint takes
// the same code path above this class.
#ifndef TELECLAUDE_MESH_COMMON_REDIS_REDIS_CONNECTION_H_
#define TELECLAUDE_MESH_COMMON_REDIS_REDIS_CONNECTION_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/redis/redis_tls_context.h"
#include "common/redis/redis_url.h"

typedef struct ssl_st SSL;

namespace teleclaude::mesh {

// Blocking I/O with a timeout per system call (SO_RCVTIMEO / SO_SNDTIMEO),
// as hiredis' blocking context does; writes never raise SIGPIPE. Errors are
// UNAVAILABLE with a short detail and no endpoint (the caller adds it):
// "timed out", "connection closed by the server", "Connection reset by peer",
// "TLS: ..." (for TLS, what went wrong and which flag fixes it).
// NOT thread-safe. The connection is unusable after any error.
class RedisConnection {
 public:
  // Connects to `endpoint` within `connect_timeout` (TCP and Unix: the
  // connect itself; TLS: the connect, then the handshake within the same
  // time again). REQUIRES: `tls` non-null iff endpoint.use_tls; it must
  // outlive the call only (OpenSSL keeps its own reference). The socket's
  // timeout afterwards is `connect_timeout` until SetTimeout().
  static absl::StatusOr<std::unique_ptr<RedisConnection>> Open(const RedisEndpoint& endpoint,
                                                               const RedisTlsContext* tls,
                                                               absl::Duration connect_timeout);
  // Closes (for TLS after a close_notify when no error happened).
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  bool is_tls() const { return ssl_ != nullptr; }

  // The longest one read or write may wait (at least 1 ms: never forever).
  // The same timeout as the last one costs no system call.
  absl::Status SetTimeout(absl::Duration timeout);
  // Sends all of `data` (partial writes are continued).
  absl::Status Write(std::string_view data);
  // Receives between 1 and `size` bytes into `buf` (TLS: decrypted bytes
  // OpenSSL already holds come first, without touching the socket).
  absl::StatusOr<size_t> Read(char* buf, size_t size);

  // What the socket layer saw last (the TLS BIO writes here). Internal.
  struct SocketState {
    int fd = -1;
    int last_errno = 0;
    bool eof = false;
  };

 private:
  explicit RedisConnection(int fd) { socket_.fd = fd; }
  absl::Status Handshake(const RedisEndpoint& endpoint, const RedisTlsContext& tls,
                         absl::Duration timeout);
  // The error of a failed SSL_read / SSL_write (`ret` its return value).
  absl::Status TlsIoError(int ret);
  // The error of a failed plain recv / send (errno at the call).
  absl::Status SocketError(int err);

  SocketState socket_;
  // What SetTimeout last set on the socket (none yet: InfiniteDuration).
  absl::Duration timeout_ = absl::InfiniteDuration();
  SSL* ssl_ = nullptr;  // owned; null for plain TCP and Unix sockets
  bool broken_ = false;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_REDIS_REDIS_CONNECTION_H_
