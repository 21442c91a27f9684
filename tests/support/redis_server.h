// A real redis-server for tests, on a free 127.0.0.1 port in its own temp
// directory, plain or TLS, stopped by its own PID.
#ifndef TELECLAUDE_MESH_TESTS_SUPPORT_REDIS_SERVER_H_
#define TELECLAUDE_MESH_TESTS_SUPPORT_REDIS_SERVER_H_

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/redis/redis_client.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tls_certificates.h"

namespace teleclaude::mesh::testing {

// Runs `redis-server --port N --bind 127.0.0.1 --dir <temp dir> --save ""
// --appendonly yes|no` plus Options::extra_args as a child process (it dies
// with the test process). With Options::tls it serves TLS only:
// `--port 0 --tls-port N` with a CA and certificates made in its directory
// (TlsCertificates). The constructor returns once the server answers
// PING. Not thread-safe. CHECK-fails (with the fix in the message) when
// redis-server is missing (PATH, /usr/bin) or does not answer within 10 s.
//
//   RedisServer redis;                           // or RedisServer({.tls = true})
//   RedisClient client(redis.ClientOptions());   // or redis.Client()
//   ... flags: --redis_url=redis.url() plus redis.TlsFlags()
class RedisServer {
 public:
  struct Options {
    // Keep data across Restart()/Kill() (--appendonly yes in the same dir);
    // otherwise a restarted server is empty.
    bool persist = false;
    // Appended to the command line, e.g. {"--requirepass", "secret"}. With
    // --requirepass, endpoint()/Client() carry the password.
    std::vector<std::string> extra_args;
    // Serve TLS only (certificates: see tls_server_names); url() and
    // endpoint() are then rediss:// and trust the test CA.
    bool tls = false;
    // With tls: --tls-auth-clients no | optional | yes. With "yes",
    // endpoint() / TlsFlags() carry the client certificate.
    std::string tls_auth_clients = "no";
    // With tls: the server certificate's subject alternative names.
    std::string tls_server_names = "IP:127.0.0.1,DNS:localhost";
  };

  RedisServer();
  explicit RedisServer(Options options);
  ~RedisServer();  // stops the server
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  // The server's PID, -1 when it is not running.
  pid_t pid() const;
  // "redis://127.0.0.1:PORT/0" ("redis://:PASSWORD@127.0.0.1:PORT/0" with
  // --requirepass; the password percent-encoded; rediss:// with tls).
  std::string url() const;
  // 127.0.0.1:port, db 0, the --requirepass password if any; with tls,
  // use_tls and the test CA (and the client certificate, see Options).
  RedisEndpoint endpoint() const;
  // The --redis_tls_* flags a service needs for endpoint() (none without tls).
  std::vector<std::string> TlsFlags() const;
  // The test CA and certificates; REQUIRES: Options::tls.
  const TlsCertificates& certificates() const;
  // Client options for endpoint() with short reconnect backoff (1..50 ms) so
  // tests recover quickly after Restart().
  RedisClientOptions ClientOptions() const;
  // A new (lazily connecting) client for this server.
  std::unique_ptr<RedisClient> Client() const;

  // The server's data directory (kept across restarts, removed at the end).
  const std::filesystem::path& dir() const { return dir_.path(); }
  // redis-server's own log (all runs).
  std::string ReadLog() const;

  void Stop();     // SIGTERM, wait (SIGKILL after 10 s); no-op when stopped
  void Kill();     // SIGKILL and wait; no-op when stopped
  void Restart();  // Stop() if running, then start again on the same port and dir
  bool Running();

 private:
  void StartServer();
  // True once our own process (by PID) answers INFO; false if it exited or
  // did not answer within 10 s.
  bool AwaitReady();
  void StartOnFreshPort();

  Options options_;
  TempDir dir_;
  std::unique_ptr<TlsCertificates> certificates_;  // with tls
  int port_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SUPPORT_REDIS_SERVER_H_
