// What only RedisClient over rediss:// does, against a real TLS redis-server
// (redis-server --tls-port, certificates made by deploy/redis-tls-certs.sh):
// verification, client certificates, insecure mode, and every refusal as one
// line that names the fix. Commands, pipelining, blocking reads, timeouts and
// restarts over TLS: RedisClientTransportTest in redis_client_test.cc.
#include <string>
#include <thread>
#include <vector>

#include "common/redis/redis_client.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tls_certificates.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::RedisServer;
using ::teleclaude::mesh::testing::TempDir;
using ::teleclaude::mesh::testing::TlsCertificates;
using ::teleclaude::mesh::testing::WaitFor;

RedisServer::Options Tls(std::string auth_clients = "no") {
  RedisServer::Options o;
  o.tls = true;
  o.tls_auth_clients = std::move(auth_clients);
  return o;
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

// The error of a Ping through `options`, checked to be one UNAVAILABLE line.
std::string PingError(const RedisClientOptions& options) {
  RedisClient client(options);
  absl::Status s = client.Ping();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(Message(s).find('\n'), std::string::npos) << s;
  return Message(s);
}

TEST(RedisClientTlsTest, VerifiesTheServerByAddressAndByName) {
  RedisServer server(Tls());
  ASSERT_EQ(server.url().rfind("rediss://127.0.0.1:", 0), 0u) << server.url();
  auto client = server.Client();
  ASSERT_TRUE(client->SetEx("k", "v", absl::Seconds(60)).ok());
  // By host name too: SNI and the certificate's DNS name.
  RedisClientOptions by_name = server.ClientOptions();
  by_name.endpoint.host = "localhost";
  RedisClient named(by_name);
  EXPECT_EQ(named.Get("k")->value_or(""), "v");
}

TEST(RedisClientTlsTest, WrongCaIsRefusedInOneLineNamingTheFlag) {
  RedisServer server(Tls());
  TempDir other_dir;
  TlsCertificates other(other_dir.path());
  RedisClientOptions opts = server.ClientOptions();
  opts.endpoint.tls.ca_file = other.ca_cert();
  absl::Time start = absl::Now();
  std::string error = PingError(opts);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2)) << "a refusal, not a timeout";
  EXPECT_NE(error.find("is not trusted by --redis_tls_ca=" + other.ca_cert()), std::string::npos)
      << error;
  EXPECT_NE(error.find("give the CA that signed it with --redis_tls_ca=FILE"), std::string::npos)
      << error;
  EXPECT_NE(error.find(server.endpoint().ToString()), std::string::npos) << error;

  // Without --redis_tls_ca the system's CAs are used: they do not know the
  // test CA either.
  opts.endpoint.tls.ca_file.clear();
  error = PingError(opts);
  EXPECT_NE(error.find("is not trusted by the system's CAs"), std::string::npos) << error;
  EXPECT_NE(error.find("--redis_tls_ca"), std::string::npos) << error;
}

TEST(RedisClientTlsTest, CertificateForAnotherHostIsRefused) {
  RedisServer::Options o = Tls();
  o.tls_server_names = "DNS:redis.example.com";
  RedisServer server(o);
  std::string error = PingError(server.ClientOptions());
  EXPECT_NE(error.find("TLS: the server's certificate is not for \"127.0.0.1\""), std::string::npos)
      << error;
  // Insecure mode does not look at names (nor at the CA).
  RedisClientOptions insecure = server.ClientOptions();
  insecure.endpoint.tls.insecure = true;
  RedisClient client(insecure);
  EXPECT_TRUE(client.Ping().ok());
}

TEST(RedisClientTlsTest, InsecureModeConnectsWithoutVerifying) {
  RedisServer server(Tls());
  RedisClientOptions opts = server.ClientOptions();
  opts.endpoint.tls.ca_file.clear();  // the system's CAs: they would refuse
  opts.endpoint.tls.insecure = true;
  RedisClient client(opts);
  ASSERT_TRUE(client.SetEx("k", "v", absl::Seconds(60)).ok());
  EXPECT_EQ(client.Get("k")->value_or(""), "v");
}

TEST(RedisClientTlsTest, ServerRequiringClientCertificates) {
  RedisServer server(Tls("yes"));
  // With the client certificate (endpoint() carries it for "yes").
  auto with_cert = server.Client();
  ASSERT_TRUE(with_cert->Ping().ok());

  RedisClientOptions without = server.ClientOptions();
  without.endpoint.tls.cert_file.clear();
  without.endpoint.tls.key_file.clear();
  std::string error = PingError(without);
  EXPECT_NE(error.find("--redis_tls_cert"), std::string::npos) << error;
  EXPECT_NE(error.find("--redis_tls_key"), std::string::npos) << error;

  // A certificate from a CA the server does not know is refused too.
  TempDir other_dir;
  TlsCertificates other(other_dir.path());
  RedisClientOptions foreign = server.ClientOptions();
  foreign.endpoint.tls.cert_file = other.client_cert();
  foreign.endpoint.tls.key_file = other.client_key();
  // (The server's alert "unknown ca", or a reset that swallowed it: either
  // way the message points at the certificate.)
  error = PingError(foreign);
  EXPECT_NE(error.find("--redis_tls_cert"), std::string::npos) << error;
}

TEST(RedisClientTlsTest, OptionalClientCertificatesAcceptBoth) {
  RedisServer server(Tls("optional"));
  EXPECT_TRUE(server.Client()->Ping().ok());
  RedisClientOptions with_cert = server.ClientOptions();
  with_cert.endpoint.tls.cert_file = server.certificates().client_cert();
  with_cert.endpoint.tls.key_file = server.certificates().client_key();
  RedisClient client(with_cert);
  EXPECT_TRUE(client.Ping().ok());
}

TEST(RedisClientTlsTest, TlsUrlAtAPlainPortFailsFastSayingSo) {
  RedisServer plain;
  RedisClientOptions opts = plain.ClientOptions();
  opts.endpoint.use_tls = true;
  opts.endpoint.tls.insecure = true;
  opts.connect_timeout = absl::Seconds(2);
  absl::Time start = absl::Now();
  std::string error = PingError(opts);
  EXPECT_LT(absl::Now() - start, absl::Seconds(4)) << "never a hang";
  EXPECT_NE(error.find("if it is a plain Redis port, use redis://"), std::string::npos) << error;
}

TEST(RedisClientTlsTest, PlainUrlAtATlsPortFailsSayingSo) {
  RedisServer server(Tls());
  RedisClientOptions opts = server.ClientOptions();
  opts.endpoint.use_tls = false;
  absl::Time start = absl::Now();
  std::string error = PingError(opts);
  EXPECT_LT(absl::Now() - start, absl::Seconds(4)) << "never a hang";
  EXPECT_NE(error.find("rediss://"), std::string::npos) << error;
}

TEST(RedisClientTlsTest, UnusableTlsFilesAreAConnectErrorNamingTheFlag) {
  RedisServer server(Tls());
  RedisClientOptions opts = server.ClientOptions();
  opts.endpoint.tls.ca_file = server.dir() / "missing.crt";
  std::string error = PingError(opts);
  EXPECT_NE(error.find("redis_tls_ca: cannot read " + opts.endpoint.tls.ca_file), std::string::npos)
      << error;
}

}  // namespace
}  // namespace teleclaude::mesh
