#include "tests/support/redis_server.h"

#include <unistd.h>

#include "common/base/strings.h"
#include "glog/logging.h"
#include "tests/support/free_port.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh::testing {

namespace {
std::string FindRedisServer() {
  for (const char* p : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"}) {
    if (access(p, X_OK) == 0) return p;
  }
  LOG(FATAL) << "redis-server not found: run scripts/install-deps.sh";
}
}  // namespace

RedisServer::RedisServer() : RedisServer(Options{}) {}

RedisServer::RedisServer(Options options)
    : options_(std::move(options)), port_(FreeLoopbackPort()) {
  StartServer();
}

RedisServer::~RedisServer() { Stop(); }

std::string RedisServer::url() const { return Cat("redis://127.0.0.1:", port_, "/0"); }

RedisEndpoint RedisServer::endpoint() const {
  RedisEndpoint ep;
  ep.host = "127.0.0.1";
  ep.port = port_;
  return ep;
}

std::unique_ptr<RedisClient> RedisServer::Client() const {
  RedisClientOptions options;
  options.endpoint = endpoint();
  options.reconnect_backoff_min = absl::Milliseconds(1);
  options.reconnect_backoff_max = absl::Milliseconds(50);
  for (size_t i = 0; i + 1 < options_.extra_args.size(); ++i) {
    if (options_.extra_args[i] == "--requirepass")
      options.endpoint.password = options_.extra_args[i + 1];
  }
  return std::make_unique<RedisClient>(options);
}

void RedisServer::StartServer() {
  std::vector<std::string> args = {FindRedisServer(),
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--dir",
                                   dir_.path().string(),
                                   "--save",
                                   "",
                                   "--appendonly",
                                   options_.persist ? "yes" : "no",
                                   "--daemonize",
                                   "no",
                                   "--protected-mode",
                                   "no"};
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  auto child = ChildProcess::Start({args, {}, dir_.File("redis.log")});
  CHECK(child.ok()) << child.status();
  process_ = std::move(*child);
  auto client = Client();
  bool up = WaitFor(
      [&] {
        if (!process_->Running()) return false;
        absl::StatusOr<RedisReply> r = client->Command({"PING"});
        // A password-protected server answers NOAUTH only without the password.
        return r.ok();
      },
      absl::Seconds(10), absl::Milliseconds(10));
  CHECK(up) << "redis-server on port " << port_ << " did not answer PING within 10 s; log:\n"
            << process_->ReadLog();
}

void RedisServer::Stop() {
  if (process_ == nullptr) return;
  process_->Terminate();
  if (!process_->Wait(absl::Seconds(10)).ok()) process_->Kill();
  process_->Wait(absl::Seconds(10)).IgnoreError();
  process_.reset();
}

void RedisServer::Kill() {
  if (process_ == nullptr) return;
  process_->Kill();
  process_->Wait(absl::Seconds(10)).IgnoreError();
  process_.reset();
}

void RedisServer::Restart() {
  Stop();
  StartServer();
}

bool RedisServer::Running() { return process_ != nullptr && process_->Running(); }

}  // namespace teleclaude::mesh::testing
