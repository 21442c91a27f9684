#include "common/redis/redis_tls_context.h"

#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tls_certificates.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::TempDir;
using ::teleclaude::mesh::testing::TlsCertificates;

RedisTlsOptions Files(std::string ca, std::string cert, std::string key) {
  RedisTlsOptions o;
  o.ca_file = std::move(ca);
  o.cert_file = std::move(cert);
  o.key_file = std::move(key);
  return o;
}

// Create's error message ("" when it succeeds).
std::string CreateError(const RedisTlsOptions& options) {
  auto made = RedisTlsContext::Create(options);
  if (made.ok()) return "";
  EXPECT_TRUE(absl::IsInvalidArgument(made.status())) << made.status();
  std::string message(made.status().message());
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  return message;
}

class RedisTlsContextTest : public ::testing::Test {
 protected:
  RedisTlsContextTest() : certs_(dir_.path() / "a"), other_(dir_.path() / "b") {}

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_.File(name);
    std::ofstream(path) << text;
    return path;
  }

  TempDir dir_;
  TlsCertificates certs_;
  TlsCertificates other_;
};

TEST_F(RedisTlsContextTest, LoadsCaAndClientCertificateOrTheSystemCas) {
  EXPECT_EQ(CreateError({}), "") << "the system's CAs";
  RedisTlsOptions o = Files(certs_.ca_cert(), certs_.client_cert(), certs_.client_key());
  auto made = RedisTlsContext::Create(o);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ((*made)->options(), o);
  EXPECT_NE((*made)->ssl_ctx(), nullptr);
  EXPECT_EQ((*made)->TrustSource(), "--redis_tls_ca=" + certs_.ca_cert());
}

TEST_F(RedisTlsContextTest, EachUnusableFileIsOneLineNamingItsFlag) {
  const std::string missing = dir_.File("missing.pem");
  const std::string junk = Write("junk.pem", "not a certificate\n");
  struct Case {
    RedisTlsOptions options;
    std::string expect;
  } cases[] = {
      {Files(missing, "", ""),
       "redis_tls_ca: cannot read " + missing + ": No such file or directory; check the path"},
      {Files(junk, "", ""),
       "redis_tls_ca: " + junk + " holds no usable PEM certificate (OpenSSL: "},
      {Files("", certs_.client_cert(), ""),
       "redis_tls_key: is empty but --redis_tls_cert is set; give the client certificate and its "
       "key, or neither"},
      {Files("", "", certs_.client_key()),
       "redis_tls_cert: is empty but --redis_tls_key is set; give the client certificate and its "
       "key, or neither"},
      {Files("", missing, certs_.client_key()), "redis_tls_cert: cannot read " + missing},
      {Files("", junk, certs_.client_key()),
       "redis_tls_cert: " + junk + " holds no usable PEM certificate"},
      {Files("", certs_.client_cert(), junk),
       "redis_tls_key: " + junk + " holds no usable PEM private key"},
      {Files("", certs_.client_cert(), other_.client_key()),
       "redis_tls_key: " + other_.client_key() +
           " is not the key of --redis_tls_cert=" + certs_.client_cert()},
  };
  for (const Case& c : cases) {
    std::string error = CreateError(c.options);
    EXPECT_EQ(error.rfind(c.expect, 0), 0u) << "got: " << error << "\nwant: " << c.expect;
  }
}

}  // namespace
}  // namespace teleclaude::mesh
