#include "common/redis/redis_tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/base/strings.h"

namespace teleclaude::mesh {

namespace {

absl::Status Invalid(std::string_view flag, std::string_view problem, std::string_view fix) {
  return absl::InvalidArgumentError(Cat(flag, ": ", problem, "; ", fix));
}

// A file named by a flag must be readable before OpenSSL is asked about its
// contents, so that "missing" and "not PEM" read differently.
absl::Status Readable(std::string_view flag, const std::string& path) {
  if (access(path.c_str(), R_OK) != 0) {
    return Invalid(flag, Cat("cannot read ", path, ": ", std::strerror(errno)), "check the path");
  }
  return absl::OkStatus();
}

}  // namespace

std::string TakeOpenSslError() {
  std::string first;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {  // NOLINT(runtime/int)
    if (!first.empty()) continue;
    const char* reason = ERR_reason_error_string(e);
    first = reason != nullptr ? reason : Cat("error ", static_cast<int64_t>(e));
  }
  return first;
}

absl::StatusOr<std::shared_ptr<const RedisTlsContext>> RedisTlsContext::Create(
    const RedisTlsOptions& options) {
  if (options.cert_file.empty() != options.key_file.empty()) {
    return options.cert_file.empty()
               ? Invalid("redis_tls_cert", "is empty but --redis_tls_key is set",
                         "give the client certificate and its key, or neither")
               : Invalid("redis_tls_key", "is empty but --redis_tls_cert is set",
                         "give the client certificate and its key, or neither");
  }
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    return absl::InternalError(
        Cat("redis TLS: cannot make an OpenSSL context: ", TakeOpenSslError()));
  }
  std::shared_ptr<const RedisTlsContext> made(new RedisTlsContext(options, ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Reads take whole records (and what follows) from the socket at once:
  // fewer system calls when replies are large.
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
  SSL_CTX_set_verify(ctx, options.insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
  if (!options.ca_file.empty()) {
    if (absl::Status s = Readable("redis_tls_ca", options.ca_file); !s.ok()) return s;
    if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
      return Invalid("redis_tls_ca",
                     Cat(options.ca_file,
                         " holds no usable PEM certificate (OpenSSL: ", TakeOpenSslError(), ")"),
                     "give the CA certificate(s) that signed the server's certificate, as PEM");
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return Invalid(
        "redis_tls_ca",
        Cat("is empty and the system's CAs cannot be loaded (OpenSSL: ", TakeOpenSslError(), ")"),
        "install ca-certificates or give --redis_tls_ca=FILE");
  }
  if (!options.cert_file.empty()) {
    if (absl::Status s = Readable("redis_tls_cert", options.cert_file); !s.ok()) return s;
    if (absl::Status s = Readable("redis_tls_key", options.key_file); !s.ok()) return s;
    if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
      return Invalid("redis_tls_cert",
                     Cat(options.cert_file,
                         " holds no usable PEM certificate (OpenSSL: ", TakeOpenSslError(), ")"),
                     "give the client certificate (and its chain) as PEM");
    }
    const bool loaded =
        SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) == 1;
    const std::string why = loaded ? "" : TakeOpenSslError();
    if (!loaded && why.find("key values mismatch") == std::string::npos) {
      return Invalid("redis_tls_key",
                     Cat(options.key_file, " holds no usable PEM private key (OpenSSL: ", why, ")"),
                     "give the client certificate's private key as PEM, unencrypted");
    }
    if (!loaded || SSL_CTX_check_private_key(ctx) != 1) {
      return Invalid("redis_tls_key",
                     Cat(options.key_file, " is not the key of --redis_tls_cert=",
                         options.cert_file, " (OpenSSL: ", loaded ? TakeOpenSslError() : why, ")"),
                     "give the private key that belongs to the certificate");
    }
  }
  return made;
}

RedisTlsContext::~RedisTlsContext() { SSL_CTX_free(ctx_); }

std::string RedisTlsContext::TrustSource() const {
  return options_.ca_file.empty() ? "the system's CAs" : Cat("--redis_tls_ca=", options_.ca_file);
}

}  // namespace teleclaude::mesh
