// The OpenSSL client context of rediss:// connections (doc/tls.md): whom to
// trust (the system's CAs, or --redis_tls_ca), the client certificate if any
// (--redis_tls_cert / --redis_tls_key), or no verification at all
// (--redis_tls_insecure).
#ifndef TELECLAUDE_MESH_COMMON_REDIS_REDIS_TLS_CONTEXT_H_
#define TELECLAUDE_MESH_COMMON_REDIS_REDIS_TLS_CONTEXT_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/redis/redis_url.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace teleclaude::mesh {

// Immutable once made; thread-safe (OpenSSL contexts may be shared by
// connections on any thread).
class RedisTlsContext {
 public:
  // Loads the trust anchors and the client certificate: TLS 1.2 or later,
  // peer verification unless `options.insecure`. Errors are
  // INVALID_ARGUMENT, one line naming the flag, e.g.
  //   `redis_tls_ca: /etc/x.pem holds no PEM certificate (OpenSSL: no
  //    certificate or crl found); give the CA certificate(s) as PEM`.
  static absl::StatusOr<std::shared_ptr<const RedisTlsContext>> Create(
      const RedisTlsOptions& options);
  ~RedisTlsContext();
  RedisTlsContext(const RedisTlsContext&) = delete;
  RedisTlsContext& operator=(const RedisTlsContext&) = delete;

  const RedisTlsOptions& options() const { return options_; }
  SSL_CTX* ssl_ctx() const { return ctx_; }

  // "by --redis_tls_ca=FILE" or "by the system's CAs" (for error messages).
  std::string TrustSource() const;

 private:
  RedisTlsContext(RedisTlsOptions options, SSL_CTX* ctx)
      : options_(std::move(options)), ctx_(ctx) {}

  const RedisTlsOptions options_;
  SSL_CTX* const ctx_;  // owned
};

// Takes every queued OpenSSL error of this thread off the queue and returns
// the first one's text (e.g. "wrong version number"), or "" when there is
// none. Call after a failed OpenSSL call; the queue is per thread.
std::string TakeOpenSslError();

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_REDIS_REDIS_TLS_CONTEXT_H_
