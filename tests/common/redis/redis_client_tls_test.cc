// RedisClient over rediss:// against a real TLS redis-server (redis-server
// --tls-port, certificates made by deploy/redis-tls-certs.sh): the same
// commands, pipelining, blocking reads and reconnects as plain TCP, and
// every refusal as one line that names the fix.
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

TEST(RedisClientTlsTest, VerifiesTheServerThenCommandsAndPipelinesWork) {
  RedisServer server(Tls());
  ASSERT_EQ(server.url().rfind("rediss://127.0.0.1:", 0), 0u) << server.url();
  auto client = server.Client();
  // Larger than one TLS record (16 KiB) many times over, binary.
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  ASSERT_TRUE(client->Command({"SET", "big", big}).ok());
  auto got = client->Get("big");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(**got == big) << "the 1 MiB value came back changed";

  std::vector<std::vector<std::string>> cmds;
  for (int i = 0; i < 10000; ++i) cmds.push_back({"RPUSH", "list", std::to_string(i)});
  cmds.push_back({"INCR", "list"});  // an error reply stays in the vector
  auto replies = client->Pipeline(cmds);
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 10001u);
  EXPECT_EQ((*replies)[9999].integer(), 10000);
  EXPECT_TRUE(replies->back().is_error());

  // By host name too: SNI and the certificate's DNS name.
  RedisClientOptions by_name = server.ClientOptions();
  by_name.endpoint.host = "localhost";
  RedisClient named(by_name);
  EXPECT_EQ(named.Command({"LLEN", "list"})->integer(), 10000);
}

TEST(RedisClientTlsTest, BlockingGroupReadReturnsEarlyAndLongBlockIsNotCut) {
  RedisServer server(Tls());
  auto reader = server.Client();
  auto writer = server.Client();
  ASSERT_TRUE(reader->XGroupCreate("s", "g", "$", true).ok());
  std::thread t([&] {
    absl::SleepFor(absl::Milliseconds(100));
    ASSERT_TRUE(writer->XAdd("s", {{"k", std::string(40000, 'v')}}, 0).ok());
  });
  absl::Time start = absl::Now();
  auto read = reader->XReadGroup("g", "c", "s", ">", 10, absl::Seconds(8));
  absl::Duration took = absl::Now() - start;
  t.join();
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].fields[0].second.size(), 40000u);
  EXPECT_LT(took, absl::Seconds(5)) << "the read waited for its whole block time";

  // Many entries in one reply (several records), read straight into entries.
  std::vector<std::vector<std::string>> adds;
  for (int i = 0; i < 500; ++i) {
    adds.push_back(RedisClient::XAddArgv("s", {{"n", std::to_string(i)}}, 0));
  }
  ASSERT_TRUE(writer->Pipeline(adds).ok());
  auto many = reader->XReadGroup("g", "c", "s", ">", 1000, absl::Seconds(1));
  ASSERT_TRUE(many.ok()) << many.status();
  ASSERT_EQ(many->size(), 500u);
  EXPECT_EQ(many->back().fields[0].second, "499");

  // A block longer than the command timeout is not cut by it.
  RedisClientOptions opts = server.ClientOptions();
  opts.command_timeout = absl::Milliseconds(200);
  RedisClient short_timeout(opts);
  auto empty = short_timeout.XReadGroup("g", "c", "s", ">", 10, absl::Milliseconds(500));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
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

TEST(RedisClientTlsTest, ReconnectsAfterTheServerRestartsOnTheSamePort) {
  RedisServer::Options o = Tls();
  o.persist = true;
  RedisServer server(o);
  auto client = server.Client();
  ASSERT_TRUE(client->XAdd("s", {{"k", "v"}}, 0).ok());
  server.Kill();
  std::vector<std::vector<std::string>> cmds(100, RedisClient::XAddArgv("s", {{"k", "v"}}, 0));
  auto r = client->Pipeline(cmds);
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_NE(Message(r.status()).find("XADD s"), std::string::npos) << r.status();
  EXPECT_TRUE(absl::IsUnavailable(client->Ping()));
  server.Restart();
  EXPECT_TRUE(WaitFor([&] { return client->Ping().ok(); }, absl::Seconds(5)));
  EXPECT_EQ(*client->XLen("s"), 1) << "the appendonly file kept the entry";
  // A clean restart (SIGTERM) too.
  server.Restart();
  EXPECT_TRUE(WaitFor([&] { return client->XLen("s").ok(); }, absl::Seconds(5)));
}

TEST(RedisClientTlsTest, CommandTimeoutIsAnErrorNotAHang) {
  RedisServer server(Tls());
  RedisClientOptions opts = server.ClientOptions();
  opts.command_timeout = absl::Milliseconds(200);
  RedisClient client(opts);
  auto other = server.Client();
  ASSERT_TRUE(client.Ping().ok());
  ASSERT_TRUE(other->Command({"CLIENT", "PAUSE", "1000", "ALL"}).ok());
  absl::Time start = absl::Now();
  absl::Status r = client.Ping();
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(900));
  EXPECT_TRUE(absl::IsUnavailable(r)) << r;
  EXPECT_NE(Message(r).find("PING: timed out"), std::string::npos) << r;
  EXPECT_TRUE(WaitFor([&] { return client.Ping().ok(); }, absl::Seconds(5)));
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
