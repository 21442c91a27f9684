#include "common/redis/redis_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "common/base/strings.h"

namespace teleclaude::mesh {

namespace {

using SocketState = RedisConnection::SocketState;

absl::Status Unavailable(std::string_view detail) { return absl::UnavailableError(ToAbsl(detail)); }

// --- a BIO over our socket ----------------------------------------------------
// OpenSSL's own socket BIO writes with write(2), which raises SIGPIPE when
// the server has gone; this one sends with MSG_NOSIGNAL, and records errno
// and end of file for the error messages.

int BioWrite(BIO* bio, const char* buf, int len) {
  auto* s = static_cast<SocketState*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  for (;;) {
    ssize_t n = send(s->fd, buf, static_cast<size_t>(len), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    s->last_errno = errno;
    // A timeout (SO_SNDTIMEO): OpenSSL reports SSL_ERROR_WANT_WRITE.
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(bio);
    return -1;
  }
}

int BioRead(BIO* bio, char* buf, int len) {
  auto* s = static_cast<SocketState*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  for (;;) {
    ssize_t n = recv(s->fd, buf, static_cast<size_t>(len), 0);
    if (n > 0) return static_cast<int>(n);
    if (n == 0) {
      s->eof = true;
      return 0;
    }
    if (errno == EINTR) continue;
    s->last_errno = errno;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(bio);
    return -1;
  }
}

long BioCtrl(BIO*, int cmd, long, void*) {  // NOLINT(runtime/int)
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;     // nothing is buffered here
}

const BIO_METHOD* SocketBioMethod() {
  static const BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "redis socket");
    if (m != nullptr) {
      BIO_meth_set_write(m, BioWrite);
      BIO_meth_set_read(m, BioRead);
      BIO_meth_set_ctrl(m, BioCtrl);
    }
    return m;
  }();
  return method;
}

// --- connecting -----------------------------------------------------------------

absl::Status SetTimeouts(int fd, absl::Duration timeout) {
  timeval tv = absl::ToTimeval(std::max(timeout, absl::Milliseconds(1)));
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
    return Unavailable(Cat("cannot set the socket timeout: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// Connects a non-blocking socket to `addr` within `timeout`; on success the
// socket is blocking again. Returns the fd, or -1 with errno set.
int ConnectOne(int family, const sockaddr* addr, socklen_t len, absl::Duration timeout) {
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  auto fail = [fd](int err) {
    close(fd);
    errno = err;
    return -1;
  };
  if (connect(fd, addr, len) != 0) {
    if (errno != EINPROGRESS) return fail(errno);
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      pollfd p = {fd, POLLOUT, 0};
      int64_t ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now()));
      int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(ms, INT_MAX)));
      if (r > 0) break;
      if (r == 0) return fail(ETIMEDOUT);
      if (errno != EINTR) return fail(errno);
    }
    int err = 0;
    socklen_t err_len = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) return fail(errno);
    if (err != 0) return fail(err);
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) return fail(errno);
  return fd;
}

absl::StatusOr<int> ConnectTcp(const std::string& host, int port, absl::Duration timeout) {
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) {
    return Unavailable(Cat("cannot connect: cannot resolve ", host, ": ", gai_strerror(rc)));
  }
  int fd = -1;
  int err = EHOSTUNREACH;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ConnectOne(a->ai_family, a->ai_addr, a->ai_addrlen, timeout);
    if (fd < 0) err = errno;
  }
  freeaddrinfo(found);
  if (fd < 0) {
    return Unavailable(
        Cat("cannot connect: ", err == ETIMEDOUT ? "Connection timed out" : std::strerror(err)));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

absl::StatusOr<int> ConnectUnix(const std::string& path, absl::Duration timeout) {
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return Unavailable(
        Cat("cannot connect: socket path is longer than ", sizeof(addr.sun_path) - 1, " bytes"));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ConnectOne(AF_UNIX, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr), timeout);
  if (fd < 0) return Unavailable(Cat("cannot connect: ", std::strerror(errno)));
  return fd;
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// True for OpenSSL reasons that mean the peer sent an alert (it refused us).
bool IsAlert(std::string_view reason) { return reason.find("alert") != std::string_view::npos; }

// The fix for an alert, when we can tell it.
std::string AlertHint(std::string_view reason) {
  if (reason.find("certificate required") != std::string_view::npos ||
      reason.find("handshake failure") != std::string_view::npos) {
    return "; the server may require a client certificate: give --redis_tls_cert and "
           "--redis_tls_key";
  }
  if (reason.find("certificate") != std::string_view::npos ||
      reason.find("unknown ca") != std::string_view::npos) {
    return "; the server refused this client's certificate: check --redis_tls_cert against the "
           "server's CA (--tls-ca-cert-file)";
  }
  return "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisConnection>> RedisConnection::Open(
    const RedisEndpoint& endpoint, const RedisTlsContext* tls, absl::Duration connect_timeout) {
  absl::StatusOr<int> fd = endpoint.unix_path.empty()
                               ? ConnectTcp(endpoint.host, endpoint.port, connect_timeout)
                               : ConnectUnix(endpoint.unix_path, connect_timeout);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<RedisConnection> conn(new RedisConnection(*fd));
  if (absl::Status s = conn->SetTimeout(connect_timeout); !s.ok()) return s;
  if (endpoint.use_tls) {
    if (tls == nullptr) return absl::InternalError("rediss:// endpoint without a TLS context");
    if (absl::Status s = conn->Handshake(endpoint, *tls, connect_timeout); !s.ok()) return s;
  }
  return conn;
}

RedisConnection::~RedisConnection() {
  if (ssl_ != nullptr) {
    // close_notify, so the server sees a clean close rather than a
    // truncation; one attempt, bounded by the send timeout.
    if (!broken_) SSL_shutdown(ssl_);
    SSL_free(ssl_);  // frees the BIO too
    ERR_clear_error();
  }
  if (socket_.fd >= 0) close(socket_.fd);
}

absl::Status RedisConnection::Handshake(const RedisEndpoint& endpoint, const RedisTlsContext& tls,
                                        absl::Duration timeout) {
  ERR_clear_error();
  ssl_ = SSL_new(tls.ssl_ctx());
  BIO* bio = ssl_ != nullptr && SocketBioMethod() != nullptr ? BIO_new(SocketBioMethod()) : nullptr;
  if (bio == nullptr) {
    broken_ = true;
    return absl::InternalError(Cat("TLS: cannot make a connection: ", TakeOpenSslError()));
  }
  BIO_set_data(bio, &socket_);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, bio);
  const std::string& host = endpoint.host;
  const bool ip = IsIpLiteral(host);
  // Server Name Indication takes host names only (RFC 6066).
  if (!ip) SSL_set_tlsext_host_name(ssl_, host.c_str());
  if (!tls.options().insecure) {
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str())
                : SSL_set1_host(ssl_, host.c_str());
    if (ok != 1) {
      broken_ = true;
      return Unavailable(
          Cat("TLS: cannot verify against host \"", host, "\": ", TakeOpenSslError()));
    }
  }
  int ret = SSL_connect(ssl_);
  if (ret == 1) return absl::OkStatus();
  broken_ = true;
  const int error = SSL_get_error(ssl_, ret);
  const std::string reason = TakeOpenSslError();
  const long verify = SSL_get_verify_result(ssl_);  // NOLINT(runtime/int)
  const std::string where = Cat(host, ":", endpoint.port);
  if (!tls.options().insecure && verify != X509_V_OK) {
    const char* why = X509_verify_cert_error_string(verify);
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      return Unavailable(Cat("TLS: the server's certificate is not for \"", host, "\" (", why,
                             "); connect by a name or address the certificate lists"));
    }
    return Unavailable(Cat("TLS: the server's certificate is not trusted by ", tls.TrustSource(),
                           " (", why, "); give the CA that signed it with --redis_tls_ca=FILE"));
  }
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    return Unavailable(Cat("TLS handshake timed out after ", absl::FormatDuration(timeout), ": ",
                           where,
                           " did not answer the TLS hello; if it is a plain Redis port, use "
                           "redis://"));
  }
  if (error == SSL_ERROR_SYSCALL && !socket_.eof && socket_.last_errno != 0) {
    return Unavailable(Cat("TLS handshake: ", std::strerror(socket_.last_errno)));
  }
  if (socket_.eof || reason.find("unexpected eof") != std::string::npos) {
    return Unavailable(Cat("TLS handshake: ", where,
                           " closed the connection; if it is a plain Redis port, use redis://"));
  }
  if (IsAlert(reason)) {
    return Unavailable(
        Cat("TLS handshake refused by the server (", reason, ")", AlertHint(reason)));
  }
  return Unavailable(Cat("TLS handshake failed (", reason.empty() ? "no detail" : reason, "); if ",
                         where, " is a plain Redis port, use redis://"));
}

absl::Status RedisConnection::SetTimeout(absl::Duration timeout) {
  if (timeout == timeout_) return absl::OkStatus();
  absl::Status s = SetTimeouts(socket_.fd, timeout);
  if (s.ok()) timeout_ = timeout;
  return s;
}

absl::Status RedisConnection::SocketError(int err) {
  broken_ = true;
  if (err == EAGAIN || err == EWOULDBLOCK) return Unavailable("timed out");
  return Unavailable(std::strerror(err));
}

absl::Status RedisConnection::TlsIoError(int ret) {
  broken_ = true;
  const int error = SSL_get_error(ssl_, ret);
  const std::string reason = TakeOpenSslError();
  switch (error) {
    case SSL_ERROR_ZERO_RETURN:
      return Unavailable("connection closed by the server");
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return Unavailable("timed out");
    case SSL_ERROR_SYSCALL:
      if (socket_.eof || socket_.last_errno == 0) {
        return Unavailable("connection closed by the server");
      }
      return Unavailable(std::strerror(socket_.last_errno));
    default:
      break;
  }
  if (reason.find("unexpected eof") != std::string::npos) {
    return Unavailable("connection closed by the server");
  }
  // TLS 1.3: a server that wants a client certificate says so after the
  // client's handshake is done, i.e. at the first read.
  if (IsAlert(reason)) return Unavailable(Cat("TLS: the server sent ", reason, AlertHint(reason)));
  return Unavailable(Cat("TLS: ", reason.empty() ? "error without detail" : reason));
}

absl::Status RedisConnection::Write(std::string_view data) {
  while (!data.empty()) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      int chunk = static_cast<int>(std::min<size_t>(data.size(), INT_MAX));
      int n = SSL_write(ssl_, data.data(), chunk);
      if (n <= 0) return TlsIoError(n);
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    ssize_t n = send(socket_.fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return SocketError(errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> RedisConnection::Read(char* buf, size_t size) {
  if (ssl_ != nullptr) {
    ERR_clear_error();
    int n = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(size, INT_MAX)));
    if (n <= 0) return TlsIoError(n);
    return static_cast<size_t>(n);
  }
  for (;;) {
    ssize_t n = recv(socket_.fd, buf, size, 0);
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) {
      broken_ = true;
      return Unavailable("connection closed by the server");
    }
    if (errno != EINTR) return SocketError(errno);
  }
}

}  // namespace teleclaude::mesh
