// A real redis-server for tests, on a free 127.0.0.1 port in its own temp
// directory, stopped by its own PID.
#ifndef TELECLAUDE_MESH_TESTS_SUPPORT_REDIS_SERVER_H_
#define TELECLAUDE_MESH_TESTS_SUPPORT_REDIS_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "common/redis/redis_client.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh::testing {

// Not thread-safe. CHECK-fails (with the fix in the message) when
// redis-server is missing or does not answer within 10 s.
class RedisServer {
 public:
  struct Options {
    // Keep data across Restart() (appendonly); otherwise a restart is empty.
    bool persist = false;
    std::vector<std::string> extra_args;  // e.g. {"--requirepass", "secret"}
  };

  RedisServer();
  explicit RedisServer(Options options);
  ~RedisServer();  // stops the server
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  // "redis://127.0.0.1:PORT/0".
  std::string url() const;
  RedisEndpoint endpoint() const;
  // A new client connected to this server.
  std::unique_ptr<RedisClient> Client() const;

  void Stop();     // SIGTERM and wait
  void Kill();     // SIGKILL and wait
  void Restart();  // start again on the same port and dir
  bool Running();

 private:
  void StartServer();

  Options options_;
  TempDir dir_;
  int port_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SUPPORT_REDIS_SERVER_H_
