#include "services/ingress/transport_responder.h"

#include <pwd.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "common/base/strings.h"
#include "common/json/number.h"
#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// Python round(x, 1) for the figures here (non-negative, far from ties that
// matter).
double Round1(double x) { return std::round(x * 10.0) / 10.0; }

// psutil's usage_percent(used, total, round_=1).
double Percent(double used, double total) { return total > 0 ? Round1(used / total * 100.0) : 0.0; }

std::string UserName() {
  std::array<char, 4096> buf{};
  passwd pw{};
  passwd* found = nullptr;
  if (getpwuid_r(geteuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr && found->pw_name[0] != '\0') {
    return found->pw_name;
  }
  return Cat("uid ", geteuid());
}

std::string HostName() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) == 0 && buf[0] != '\0') return buf.data();
  return "localhost";
}

// MemTotal and MemAvailable of /proc/meminfo, bytes (0 when unreadable).
std::pair<double, double> ReadMemory() {
  std::ifstream in("/proc/meminfo");
  double total = 0;
  double available = 0;
  std::string key;
  double kib = 0;
  std::string unit;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (key == "MemTotal:") total = kib * 1024.0;
    if (key == "MemAvailable:") available = kib * 1024.0;
  }
  return {total, available};
}

}  // namespace

TransportResponder::TransportResponder(Options options)
    : options_(std::move(options)),
      user_(UserName()),
      host_(HostName()),
      redis_(std::make_unique<RedisClient>(options_.redis)),
      last_cpu_(ReadCpu()) {}

TransportResponder::CpuSample TransportResponder::ReadCpu() {
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"
  std::ifstream in("/proc/stat");
  std::string line;
  std::getline(in, line);
  std::istringstream fields(line);
  std::string label;
  fields >> label;
  std::vector<uint64_t> v;
  uint64_t x = 0;
  while (v.size() < 10 && fields >> x) v.push_back(x);
  v.resize(10, 0);
  CpuSample s;
  // psutil: guest times are already in user/nice; idle and iowait are not busy.
  for (size_t i = 0; i < 8; ++i) s.total += v[i];
  s.busy = s.total - v[3] - v[4];
  return s;
}

ComputerInfo TransportResponder::CurrentInfo() {
  ComputerInfo info;
  info.name = options_.computer_name;
  info.user = user_;
  info.host = host_;
  info.role = options_.role;
  const auto [mem_total, mem_available] = ReadMemory();
  info.memory_total_gb = Round1(mem_total / kGiB);
  info.memory_available_gb = Round1(mem_available / kGiB);
  info.memory_percent_used = Percent(mem_total - mem_available, mem_total);
  struct statvfs vfs {};
  if (statvfs(options_.disk_path.c_str(), &vfs) == 0) {
    const double frsize = static_cast<double>(vfs.f_frsize);
    const double total = static_cast<double>(vfs.f_blocks) * frsize;
    const double free = static_cast<double>(vfs.f_bavail) * frsize;
    const double used = static_cast<double>(vfs.f_blocks - vfs.f_bfree) * frsize;
    info.disk_total_gb = Round1(total / kGiB);
    info.disk_free_gb = Round1(free / kGiB);
    info.disk_percent_used = Percent(used, used + free);
  }
  const CpuSample now = ReadCpu();
  absl::MutexLock lock(&mu_);
  if (now.total > last_cpu_.total && now.busy >= last_cpu_.busy) {
    const double busy = static_cast<double>(now.busy - last_cpu_.busy);
    const double total = static_cast<double>(now.total - last_cpu_.total);
    info.cpu_percent_used = std::clamp(Round1(busy / total * 100.0), 0.0, 100.0);
  }
  last_cpu_ = now;
  return info;
}

absl::Status TransportResponder::Answer(const StreamEntry& entry) {
  const TransportRequest request = DecodeTransportRequest(entry.fields);
  std::string chunk;
  switch (request.kind) {
    case TransportRequest::Kind::kNoAnswer: {
      absl::MutexLock lock(&mu_);
      ++counters_.no_answer;
      return absl::OkStatus();
    }
    case TransportRequest::Kind::kComputerInfo:
      chunk = ComputerInfoResponse(CurrentInfo());
      break;
    case TransportRequest::Kind::kError:
      chunk = ErrorResponse(request.error);
      break;
  }
  const std::string stream = Cat("output:", options_.computer_name, ":", entry.id);
  const std::string timestamp =
      json::FormatDoublePython(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  std::vector<std::vector<std::string>> commands;
  commands.push_back(RedisClient::XAddArgv(
      stream, {{"chunk", chunk}, {"timestamp", timestamp}, {"message_id", entry.id}},
      options_.stream_maxlen));
  commands.push_back(
      {"EXPIRE", stream, Cat(std::max<int64_t>(1, absl::ToInt64Seconds(options_.response_ttl)))});
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::vector<RedisReply>> replies = redis_->Pipeline(commands);
  absl::Status status = replies.status();
  if (status.ok() && (replies->empty() || replies->front().is_error())) {
    status = absl::FailedPreconditionError(
        Cat("XADD ", stream, ": ", replies->empty() ? "no reply" : replies->front().str()));
  }
  if (!status.ok()) {
    ++counters_.write_failures;
    LOG_EVERY_T(WARNING, 10) << "ingress: answer to transport entry " << entry.id
                             << " not written (left pending): " << status;
    return status;
  }
  if (request.kind == TransportRequest::Kind::kComputerInfo) {
    ++counters_.computer_info;
  } else {
    ++counters_.errors;
    LOG_EVERY_T(INFO, 10) << "ingress: answered transport entry " << entry.id << " with "
                          << absl::CEscape(request.error);
  }
  return absl::OkStatus();
}

TransportResponder::Counters TransportResponder::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

}  // namespace teleclaude::mesh
