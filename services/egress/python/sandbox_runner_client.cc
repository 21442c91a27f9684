#include "services/egress/python/sandbox_runner_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/time/clock.h"
#include "common/base/strings.h"
#include "common/base/unique_fd.h"
#include "glog/logging.h"
#include "services/egress/python/runner_protocol.h"

namespace teleclaude::mesh {
namespace {

// Milliseconds left until `deadline`, rounded up (poll's unit), >= 0.
int MillisLeft(absl::Time deadline) {
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))));
}

// Waits for `events` on `fd` until `deadline`. false on timeout.
bool WaitFor(int fd, short events, absl::Time deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, MillisLeft(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return true;  // let the following call report it
  }
}

// Reads exactly out->size() bytes. `what` names the part for errors.
absl::Status ReadExactly(int fd, char* out, size_t size, absl::Time deadline, absl::Duration budget,
                         std::string_view what) {
  size_t got = 0;
  while (got < size) {
    ssize_t n = read(fd, out + got, size - got);
    if (n > 0) {
      got += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      return absl::DataLossError(Cat("the runner closed the connection after ", got, " of ", size,
                                     " bytes of the ", what));
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return absl::DataLossError(Cat("reading the ", what, ": ", std::strerror(errno)));
    }
    if (!WaitFor(fd, POLLIN, deadline)) {
      return absl::DeadlineExceededError(
          Cat("the runner did not answer within ", absl::FormatDuration(budget)));
    }
  }
  return absl::OkStatus();
}

// The runner's text in the one-line state: control characters as spaces,
// at most 200 bytes.
std::string OneLineForState(std::string_view text) {
  std::string out(text.substr(0, 200));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (text.size() > 200) out += "...";
  return out;
}

}  // namespace

SandboxRunnerClient::SandboxRunnerClient(Options options) : options_(std::move(options)) {
  absl::MutexLock lock(&mu_);
  unavailable_ = options_.socket_path.empty()
                     ? "no sandbox runner configured (--python_runner_socket is empty)"
                     : "python runner not reached yet";
}

SandboxRunnerClient::~SandboxRunnerClient() { Stop(); }

void SandboxRunnerClient::Start() {
  if (options_.socket_path.empty()) return;
  SetState(Ping(options_.ping_timeout));
  thread_ = std::thread([this] { Run(); });
}

void SandboxRunnerClient::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

std::string SandboxRunnerClient::Unavailable() const {
  absl::MutexLock lock(&mu_);
  return unavailable_;
}

void SandboxRunnerClient::SetState(std::string reason, std::optional<uint64_t> ping_generation) {
  absl::MutexLock lock(&mu_);
  if (ping_generation.has_value() && *ping_generation != stall_generation_) return;
  if (reason.empty()) {
    stalled_during_.clear();
  } else if (!stalled_during_.empty()) {
    reason = Cat(reason, "; it stopped answering during cartridge ", stalled_during_);
  }
  if (reason == unavailable_) return;
  if (reason.empty()) {
    LOG(INFO) << "python runner available at " << options_.socket_path;
  } else {
    LOG(WARNING) << reason << " (python cartridges are skipped until it answers)";
  }
  unavailable_ = std::move(reason);
}

std::string SandboxRunnerClient::Ping(absl::Duration timeout) {
  absl::StatusOr<std::string> body = Transfer(EncodeRunnerPing(), timeout);
  if (!body.ok()) {
    if (body.status().code() == absl::StatusCode::kUnavailable) {
      return std::string(body.status().message());
    }
    return Cat("python runner unavailable: ping: ", body.status().message());
  }
  absl::StatusOr<RunnerResponse> response = DecodeRunnerResponse(*body);
  if (!response.ok()) return Cat("python runner unavailable: ping: ", response.status().message());
  if (response->error.has_value()) {
    // container.py's health check: healthy only for `error is None`.
    return Cat("python runner unavailable: ping answered error \"",
               OneLineForState(*response->error), "\"");
  }
  return "";
}

void SandboxRunnerClient::Run() {
  absl::Duration retry = options_.retry_min;
  while (true) {
    bool available;
    uint64_t generation;
    {
      absl::MutexLock lock(&mu_);
      available = unavailable_.empty();
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || wake_; };
      mu_.AwaitWithTimeout(absl::Condition(&ready), available ? options_.ping_interval : retry);
      if (stop_) return;
      if (wake_) retry = options_.retry_min;
      wake_ = false;
      generation = stall_generation_;
    }
    std::string reason = Ping(options_.ping_timeout);
    if (reason.empty()) {
      retry = options_.retry_min;
    } else if (!available) {
      retry = std::min(retry * 2, options_.retry_max);
    }
    SetState(std::move(reason), generation);
  }
}

absl::StatusOr<std::string> SandboxRunnerClient::Exchange(std::string_view cartridge,
                                                          std::string_view request_frame,
                                                          absl::Duration budget) {
  absl::StatusOr<std::string> body = Transfer(request_frame, budget);
  if (body.status().code() == absl::StatusCode::kUnavailable && !options_.socket_path.empty()) {
    {
      absl::MutexLock lock(&mu_);
      wake_ = true;
    }
    SetState(std::string(body.status().message()));
  }
  if (body.status().code() == absl::StatusCode::kDeadlineExceeded) {
    // A slow cartridge, or a runner that answers nobody any more (its one
    // event loop blocked)? Only the second makes the runner unavailable.
    std::string reason = Ping(options_.stall_probe_timeout);
    if (!reason.empty()) {
      {
        absl::MutexLock lock(&mu_);
        stalled_during_ = std::string(cartridge);
        ++stall_generation_;
        wake_ = true;
      }
      SetState(std::move(reason));
    }
  }
  return body;
}

absl::StatusOr<std::string> SandboxRunnerClient::Transfer(std::string_view request_frame,
                                                          absl::Duration budget) {
  const absl::Time deadline = absl::Now() + budget;
  const std::string& path = options_.socket_path;
  auto unavailable = [&](std::string_view why) {
    return absl::UnavailableError(Cat("python runner unavailable: ", why));
  };
  if (path.empty()) return absl::UnavailableError(Unavailable());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return unavailable(
        Cat("socket path of ", path.size(), " bytes; at most ", sizeof(addr.sun_path) - 1));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return absl::InternalError(Cat("socket: ", std::strerror(errno)));
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    // EAGAIN: the runner's accept backlog is full (it is not accepting).
    return unavailable(Cat("connect ", path, ": ", std::strerror(errno)));
  }
  size_t sent = 0;
  while (sent < request_frame.size()) {
    ssize_t n =
        send(fd.get(), request_frame.data() + sent, request_frame.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitFor(fd.get(), POLLOUT, deadline)) {
        return absl::DeadlineExceededError(
            Cat("the runner did not read the request within ", absl::FormatDuration(budget)));
      }
      continue;
    }
    return absl::DataLossError(Cat("sending the request: ", std::strerror(errno)));
  }
  char header[kRunnerHeaderBytes];
  if (absl::Status s =
          ReadExactly(fd.get(), header, sizeof(header), deadline, budget, "response header");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<uint32_t> length =
      DecodeRunnerFrameHeader(std::string_view(header, sizeof(header)));
  if (!length.ok()) return length.status();
  std::string body(*length, '\0');
  if (absl::Status s =
          ReadExactly(fd.get(), body.data(), body.size(), deadline, budget, "response body");
      !s.ok()) {
    return s;
  }
  return body;
}

}  // namespace teleclaude::mesh
