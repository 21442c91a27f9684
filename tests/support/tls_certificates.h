// A private CA and certificates for TLS tests, made by the project's own
// deploy/redis-tls-certs.sh (the `openssl` command) in a directory.
#ifndef TELECLAUDE_MESH_TESTS_SUPPORT_TLS_CERTIFICATES_H_
#define TELECLAUDE_MESH_TESTS_SUPPORT_TLS_CERTIFICATES_H_

#include <filesystem>
#include <string>

namespace teleclaude::mesh::testing {

// Paths of ca.crt/ca.key, server.crt/server.key (for `names`) and
// client.crt/client.key, all signed by the CA. Immutable; the files stay
// (they live in the caller's directory). The constructor CHECK-fails with
// the script's output when openssl is missing or fails.
class TlsCertificates {
 public:
  // `names`: the server certificate's subject alternative names.
  explicit TlsCertificates(const std::filesystem::path& dir,
                           const std::string& names = "IP:127.0.0.1,DNS:localhost");

  std::string ca_cert() const { return File("ca.crt"); }
  std::string server_cert() const { return File("server.crt"); }
  std::string server_key() const { return File("server.key"); }
  std::string client_cert() const { return File("client.crt"); }
  std::string client_key() const { return File("client.key"); }

 private:
  std::string File(const char* name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SUPPORT_TLS_CERTIFICATES_H_
