#include "tests/bench/bench_computer.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/grpc/channel.h"
#include "tests/support/free_port.h"
#include "tests/support/local_auth.h"

namespace teleclaude::mesh::bench {
namespace v1 = ::teleclaude::mesh::v1;

const char* ServiceName(Service service) {
  switch (service) {
    case kInstaller:
      return "installer";
    case kEgress:
      return "egress";
    case kIngress:
      return "ingress";
  }
  return "?";
}

absl::StatusOr<std::string> ServiceBinary(const std::string& build_dir, Service service) {
  std::string name = ServiceName(service);
  std::string path = absl::StrCat(build_dir, "/services/", name, "/telec-", name);
  if (access(path.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("telec-", name, " is not built (", path,
                                            " missing; build it with ninja -C ", build_dir,
                                            " telec-", name, ")"));
  }
  return path;
}

double PeakRssMb(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      double kb = -1;
      fields >> kb;
      return kb < 0 ? -1 : kb / 1024.0;
    }
  }
  return -1;
}

namespace {
// utime + stime in seconds from a /proc/.../stat file; -1 when unreadable.
double StatCpuSeconds(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after "(comm)": state is field 3, utime 14, stime 15 (proc(5)).
  size_t close = text.rfind(')');
  if (close == std::string::npos || close + 2 > text.size()) return -1;
  std::vector<std::string> fields =
      absl::StrSplit(absl::string_view(text).substr(close + 2), ' ', absl::SkipEmpty());
  if (fields.size() < 13) return -1;
  double ticks =
      std::strtod(fields[11].c_str(), nullptr) + std::strtod(fields[12].c_str(), nullptr);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}
}  // namespace

double CpuSeconds(pid_t pid) { return StatCpuSeconds(absl::StrCat("/proc/", pid, "/stat")); }

std::map<pid_t, double> ThreadCpuSeconds(pid_t pid) {
  std::map<pid_t, double> out;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"), ec)) {
    double s = StatCpuSeconds(task.path().string() + "/stat");
    if (s >= 0) out[static_cast<pid_t>(std::atoi(task.path().filename().c_str()))] = s;
  }
  return out;
}

MachineCpu ReadMachineCpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;  // "cpu": the sum over all CPUs
  // user nice system idle iowait irq softirq steal
  double v[8] = {0};
  for (double& x : v) in >> x;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  MachineCpu m;
  m.total = (v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7]) / tick;
  m.busy = m.total - (v[3] + v[4]) / tick;
  return m;
}

std::map<std::string, pid_t> BenchComputer::Pids() const {
  std::map<std::string, pid_t> out;
  for (const auto& [service, child] : children_) out[ServiceName(service)] = child->pid();
  return out;
}

BenchComputer::BenchComputer(ComputerOptions options) : options_(std::move(options)) {
  for (Service s : {kInstaller, kEgress, kIngress}) ports_[s] = testing::FreeLoopbackPort();
  pipeline_ = v1::Pipeline::NewStub(testing::ServiceChannel(Addr(kEgress), data_dir()));
  ingress_ = v1::Ingress::NewStub(testing::OwnerChannel(Addr(kIngress), data_dir()));
}

BenchComputer::~BenchComputer() { StopAll(); }

std::string BenchComputer::local_stream() const {
  return absl::StrCat("teleclaude:events:", options_.name);
}

std::string BenchComputer::Addr(Service service) const {
  return absl::StrCat("127.0.0.1:", ports_.at(service));
}

std::vector<std::string> BenchComputer::CommonFlags() const {
  std::vector<std::string> flags = {
      absl::StrCat("--computer_name=", options_.name),
      absl::StrCat("--redis_url=", options_.redis_url),
      absl::StrCat("--data_dir=", data_dir()),
      absl::StrCat("--egress_addr=", Addr(kEgress)),
      absl::StrCat("--ingress_addr=", Addr(kIngress)),
      absl::StrCat("--installer_addr=", Addr(kInstaller)),
  };
  if (!options_.cluster.empty()) flags.push_back(absl::StrCat("--cluster=", options_.cluster));
  flags.insert(flags.end(), options_.extra_flags.begin(), options_.extra_flags.end());
  return flags;
}

absl::Status BenchComputer::Start() {
  for (Service s : {kInstaller, kEgress, kIngress}) {
    if ((options_.services & s) == 0) continue;
    absl::Time t = absl::Now();
    absl::Status st = StartService(s);
    if (!st.ok()) return st;
    if (getenv("TM_BENCH_VERBOSE") != nullptr) {
      fprintf(stderr, "# %s: telec-%s ready in %s\n", options_.name.c_str(), ServiceName(s),
              absl::FormatDuration(absl::Now() - t).c_str());
    }
  }
  return absl::OkStatus();
}

absl::Status BenchComputer::StartService(Service service, bool await_ready) {
  auto binary = ServiceBinary(options_.build_dir, service);
  if (!binary.ok()) return binary.status();
  testing::ChildOptions child;
  child.args.push_back(*binary);
  for (std::string& f : CommonFlags()) child.args.push_back(std::move(f));
  if (service == kEgress) {
    child.args.insert(child.args.end(), options_.egress_flags.begin(), options_.egress_flags.end());
  }
  child.log_path = dir_.File(absl::StrCat(options_.name, "-", ServiceName(service), ".log"));
  auto started = testing::ChildProcess::Start(std::move(child));
  if (!started.ok()) return started.status();
  children_[service] = std::move(*started);
  return await_ready ? AwaitReady(service, absl::Seconds(20)) : absl::OkStatus();
}

namespace {
// True when something accepts TCP connections on 127.0.0.1:port.
bool PortOpen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool open = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return open;
}
}  // namespace

absl::Status BenchComputer::AwaitReady(Service service, absl::Duration timeout) {
  testing::ChildProcess& child = *children_.at(service);
  absl::Time deadline = absl::Now() + timeout;
  // First the port (polled with plain connects: a gRPC channel that failed
  // early would sit in its reconnect backoff), then an answer.
  bool port_open = false;
  while (absl::Now() < deadline) {
    if (!child.Running()) {
      return absl::UnavailableError(absl::StrCat("telec-", ServiceName(service), " of ",
                                                 options_.name,
                                                 " exited at start-up: ", LogTail(service)));
    }
    if (!port_open && PortOpen(ports_.at(service))) {
      port_open = true;
      if (service == kEgress)
        pipeline_ = v1::Pipeline::NewStub(testing::ServiceChannel(Addr(kEgress), data_dir()));
      if (service == kIngress)
        ingress_ = v1::Ingress::NewStub(testing::OwnerChannel(Addr(kIngress), data_dir()));
    }
    if (port_open) {
      bool ready = true;
      if (service == kEgress) ready = Stats(absl::Seconds(1)).ok();
      if (service == kIngress) ready = IngressStatus(absl::Seconds(1)).ok();
      if (ready) return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "telec-", ServiceName(service), " of ", options_.name, " did not answer on ", Addr(service),
      " within ", absl::FormatDuration(timeout), ": ", LogTail(service)));
}

bool BenchComputer::Running(Service service) {
  auto it = children_.find(service);
  return it != children_.end() && it->second->Running();
}

void BenchComputer::StopService(Service service) {
  auto it = children_.find(service);
  if (it == children_.end()) return;
  SampleRss();
  it->second->Terminate();
  if (!it->second->Wait(absl::Seconds(10)).ok()) {
    it->second->Kill();
    (void)it->second->Wait(absl::Seconds(5));
  }
  children_.erase(it);
}

void BenchComputer::StopAll() {
  // Reverse dependency order: ingress feeds egress, egress pushes to installer.
  for (Service s : {kIngress, kEgress, kInstaller}) StopService(s);
}

void BenchComputer::SampleRss() {
  for (auto& [service, child] : children_) {
    if (!child->Running()) continue;
    double mb = PeakRssMb(child->pid());
    if (mb < 0) continue;
    double& max = rss_max_mb_[ServiceName(service)];
    if (mb > max) max = mb;
  }
}

std::string BenchComputer::LogTail(Service service, int lines) const {
  auto it = children_.find(service);
  if (it == children_.end()) return "(not started)";
  std::vector<std::string> all =
      absl::StrSplit(it->second->ReadLog(), '\n', absl::SkipWhitespace());
  if (all.empty()) return "(empty log)";
  size_t from = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0;
  return absl::StrJoin(all.begin() + from, all.end(), " | ");
}

namespace {
void SetDeadline(grpc::ClientContext* ctx, absl::Duration timeout) {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}
}  // namespace

absl::StatusOr<v1::StatsResponse> BenchComputer::Stats(absl::Duration timeout) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout);
  v1::StatsResponse resp;
  grpc::Status st = pipeline_->Stats(&ctx, v1::StatsRequest(), &resp);
  if (!st.ok()) return FromGrpcStatus(st, absl::StrCat("Pipeline.Stats ", Addr(kEgress)));
  return resp;
}

absl::StatusOr<v1::IngressStatusResponse> BenchComputer::IngressStatus(absl::Duration timeout) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout);
  v1::IngressStatusResponse resp;
  grpc::Status st = ingress_->Status(&ctx, v1::IngressStatusRequest(), &resp);
  if (!st.ok()) return FromGrpcStatus(st, absl::StrCat("Ingress.Status ", Addr(kIngress)));
  return resp;
}

absl::StatusOr<std::vector<std::string>> BenchComputer::Peers() {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, absl::Seconds(5));
  v1::ListPeersResponse resp;
  grpc::Status st = pipeline_->ListPeers(&ctx, v1::ListPeersRequest(), &resp);
  if (!st.ok()) return FromGrpcStatus(st, absl::StrCat("Pipeline.ListPeers ", Addr(kEgress)));
  std::vector<std::string> names;
  for (const v1::Peer& p : resp.peers()) names.push_back(p.name());
  return names;
}

std::string BenchComputer::data_dir() const { return dir_.File(options_.name); }

absl::StatusOr<BenchComputer::NotificationCount> BenchComputer::CountNotifications(
    const std::string& type_prefix) {
  NotificationCount count;
  std::set<std::string> keys;
  constexpr int kPage = 1000;
  for (int offset = 0;;) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx, absl::Seconds(30));
    v1::ListNotificationsRequest req;
    req.set_event_type_prefix(type_prefix);
    req.set_limit(kPage);
    req.set_offset(offset);
    v1::ListNotificationsResponse resp;
    grpc::Status st = pipeline_->ListNotifications(&ctx, req, &resp);
    if (!st.ok()) {
      return FromGrpcStatus(st, absl::StrCat("Pipeline.ListNotifications ", Addr(kEgress)));
    }
    for (const v1::Notification& n : resp.notifications()) {
      ++count.rows;
      keys.insert(n.has_idempotency_key() ? n.idempotency_key() : absl::StrCat("#", n.id()));
    }
    if (resp.notifications_size() == 0) break;
    offset += resp.notifications_size();  // the server may cap the page size
  }
  count.distinct_keys = static_cast<int64_t>(keys.size());
  return count;
}

}  // namespace teleclaude::mesh::bench
