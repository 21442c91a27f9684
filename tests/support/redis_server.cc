#include "tests/support/redis_server.h"

#include <ctype.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/base/strings.h"
#include "glog/logging.h"
#include "tests/support/free_port.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh::testing {

namespace {
// redis-server on PATH, else the Debian location.
std::string FindRedisServer() {
  const char* path = getenv("PATH");
  std::string dirs = path != nullptr ? path : "";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/redis-server";
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  if (access("/usr/bin/redis-server", X_OK) == 0) return "/usr/bin/redis-server";
  LOG(FATAL) << "redis-server not found (searched PATH and /usr/bin): run scripts/install-deps.sh";
}
}  // namespace

RedisServer::RedisServer() : RedisServer(Options{}) {}

RedisServer::RedisServer(Options options)
    : options_(std::move(options)), port_(FreeLoopbackPort()) {
  if (options_.tls) {
    certificates_ =
        std::make_unique<TlsCertificates>(dir_.path() / "tls", options_.tls_server_names);
  }
  StartOnFreshPort();
}

const TlsCertificates& RedisServer::certificates() const {
  CHECK(certificates_ != nullptr) << "RedisServer::certificates() without Options::tls";
  return *certificates_;
}

std::vector<std::string> RedisServer::TlsFlags() const {
  std::vector<std::string> flags;
  const RedisEndpoint ep = endpoint();
  if (!ep.tls.ca_file.empty()) flags.push_back(Cat("--redis_tls_ca=", ep.tls.ca_file));
  if (!ep.tls.cert_file.empty()) {
    flags.push_back(Cat("--redis_tls_cert=", ep.tls.cert_file));
    flags.push_back(Cat("--redis_tls_key=", ep.tls.key_file));
  }
  return flags;
}

RedisServer::~RedisServer() { Stop(); }

std::string RedisServer::url() const {
  std::string auth;
  RedisEndpoint ep = endpoint();
  if (!ep.password.empty()) {
    auth = ":";
    for (unsigned char c : ep.password) {
      if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        auth.push_back(static_cast<char>(c));
      } else {
        static constexpr char kHex[] = "0123456789ABCDEF";
        auth += {'%', kHex[c >> 4], kHex[c & 15]};
      }
    }
    auth += "@";
  }
  return Cat(options_.tls ? "rediss://" : "redis://", auth, "127.0.0.1:", port_, "/0");
}

RedisEndpoint RedisServer::endpoint() const {
  RedisEndpoint ep;
  ep.host = "127.0.0.1";
  ep.port = port_;
  for (size_t i = 0; i + 1 < options_.extra_args.size(); ++i) {
    if (options_.extra_args[i] == "--requirepass") ep.password = options_.extra_args[i + 1];
  }
  if (options_.tls) {
    ep.use_tls = true;
    ep.tls.ca_file = certificates_->ca_cert();
    if (options_.tls_auth_clients == "yes") {
      ep.tls.cert_file = certificates_->client_cert();
      ep.tls.key_file = certificates_->client_key();
    }
  }
  return ep;
}

std::string RedisServer::ReadLog() const {
  std::ifstream in(dir_.File("redis.log"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<RedisClient> RedisServer::Client() const {
  return std::make_unique<RedisClient>(ClientOptions());
}

RedisClientOptions RedisServer::ClientOptions() const {
  RedisClientOptions options;
  options.endpoint = endpoint();
  options.reconnect_backoff_min = absl::Milliseconds(1);
  options.reconnect_backoff_max = absl::Milliseconds(50);
  return options;
}

void RedisServer::StartServer() {
  std::vector<std::string> args = {FindRedisServer(),
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
  const std::string port = std::to_string(port_);
  std::vector<std::string> listen = {"--port", port};
  if (options_.tls) {
    listen = {"--port",
              "0",
              "--tls-port",
              port,
              "--tls-cert-file",
              certificates_->server_cert(),
              "--tls-key-file",
              certificates_->server_key(),
              "--tls-ca-cert-file",
              certificates_->ca_cert(),
              "--tls-auth-clients",
              options_.tls_auth_clients};
  }
  args.insert(args.end(), listen.begin(), listen.end());
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  auto child = ChildProcess::Start({args, {}, dir_.File("redis.log")});
  CHECK(child.ok()) << child.status();
  process_ = std::move(*child);
}

bool RedisServer::AwaitReady() {
  RedisClientOptions options = ClientOptions();
  // Readiness is about our process (checked by PID below), not about
  // certificates: a test may give the server one its clients must refuse.
  options.endpoint.tls.insecure = true;
  auto client = std::make_unique<RedisClient>(options);
  // Ours answers with its own PID: a stranger that grabbed the port between
  // FreeLoopbackPort() and our bind() does not count.
  const std::string pid_line = Cat("process_id:", process_->pid(), "\r\n");
  bool ready = false;
  WaitFor(
      [&] {
        if (!process_->Running()) return true;  // exited: stop waiting
        absl::StatusOr<RedisReply> r = client->Command({"INFO", "server"});
        ready = r.ok() && r->str().find(pid_line) != std::string::npos;
        return ready;
      },
      absl::Seconds(10), absl::Milliseconds(10));
  return ready;
}

void RedisServer::StartOnFreshPort() {
  // Other test processes on the machine pick free ports too; if ours was
  // taken before redis-server bound it, try another one.
  for (int attempt = 1;; ++attempt) {
    StartServer();
    if (AwaitReady()) return;
    bool exited = !process_->Running();
    if (!exited || attempt == 5 ||
        process_->ReadLog().find("Address already in use") == std::string::npos) {
      break;
    }
    process_.reset();
    port_ = FreeLoopbackPort();
  }
  LOG(FATAL) << "redis-server on 127.0.0.1:" << port_
             << " did not answer within 10 s (running: " << process_->Running() << "); log:\n"
             << ReadLog();
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
  CHECK(AwaitReady()) << "redis-server restarted on 127.0.0.1:" << port_
                      << " did not answer within 10 s; log:\n"
                      << ReadLog();
}

pid_t RedisServer::pid() const { return process_ != nullptr ? process_->pid() : -1; }

bool RedisServer::Running() { return process_ != nullptr && process_->Running(); }

}  // namespace teleclaude::mesh::testing
