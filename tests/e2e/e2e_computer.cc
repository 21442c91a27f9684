#include "tests/e2e/e2e_computer.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "rapidjson/error/en.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "tests/support/free_port.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh::e2e {
namespace {

// Set by tests/e2e/CMakeLists.txt ($<TARGET_FILE:...>); empty when the
// target did not exist at configure time.
#ifndef TM_E2E_TELEC_EGRESS
#define TM_E2E_TELEC_EGRESS ""
#endif
#ifndef TM_E2E_TELEC_INGRESS
#define TM_E2E_TELEC_INGRESS ""
#endif
#ifndef TM_E2E_TELEC_INSTALLER
#define TM_E2E_TELEC_INSTALLER ""
#endif
#ifndef TM_E2E_TELEC
#define TM_E2E_TELEC ""
#endif

std::string Tail(const std::string& text, int lines) {
  std::vector<std::string> all = absl::StrSplit(text, '\n', absl::SkipWhitespace());
  size_t from = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0;
  return absl::StrJoin(all.begin() + from, all.end(), "\n");
}

}  // namespace

absl::StatusOr<std::string> BinaryPath(const std::string& name) {
  static const std::map<std::string, std::string> kPaths = {
      {"telec-egress", TM_E2E_TELEC_EGRESS},
      {"telec-ingress", TM_E2E_TELEC_INGRESS},
      {"telec-installer", TM_E2E_TELEC_INSTALLER},
      {"telec", TM_E2E_TELEC},
  };
  auto it = kPaths.find(name);
  if (it == kPaths.end()) return absl::NotFoundError(absl::StrCat("unknown binary ", name));
  if (it->second.empty()) {
    return absl::NotFoundError(
        absl::StrCat(name, " is not built: the CMake target ", name,
                     " did not exist when tests/e2e was configured; build it (ninja ", name,
                     ") and re-run cmake"));
  }
  if (access(it->second.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(name, " is not built: ", it->second,
                                            " is missing; build it with ninja ", name));
  }
  return it->second;
}

absl::StatusOr<Json> ParseJson(const std::string& text) {
  auto doc = std::make_shared<rapidjson::Document>();
  doc->Parse(text.c_str(), text.size());
  if (doc->HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not JSON (", rapidjson::GetParseError_En(doc->GetParseError()), " at offset ",
                     doc->GetErrorOffset(), "): ", text.substr(0, 400)));
  }
  return Json(std::move(doc));
}

std::vector<Json> ParseJsonLines(const std::string& text) {
  std::vector<Json> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    absl::StatusOr<Json> j = ParseJson(std::string(line));
    if (j.ok()) out.push_back(*std::move(j));
  }
  return out;
}

const rapidjson::Value* Member(const rapidjson::Value& obj, const std::string& key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(key.c_str());
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::string Str(const rapidjson::Value& obj, const std::string& key) {
  const rapidjson::Value* v = Member(obj, key);
  return v != nullptr && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : "";
}

int64_t Int(const rapidjson::Value& obj, const std::string& key) {
  const rapidjson::Value* v = Member(obj, key);
  return v != nullptr && v->IsInt64() ? v->GetInt64() : -1;
}

std::string ToText(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

const char* ServiceName(Service service) {
  switch (service) {
    case Service::kInstaller:
      return "installer";
    case Service::kEgress:
      return "egress";
    case Service::kIngress:
      return "ingress";
  }
  return "?";
}

Computer::Computer(ComputerOptions options) : options_(std::move(options)) {
  for (Service s : {Service::kInstaller, Service::kEgress, Service::kIngress}) {
    ports_[s] = testing::FreeLoopbackPort();
  }
}

Computer::~Computer() { Stop(); }

std::string Computer::Addr(Service service) const {
  return absl::StrCat("127.0.0.1:", ports_.at(service));
}

std::vector<std::string> Computer::ClientFlags() const {
  return {
      absl::StrCat("--egress_addr=", Addr(Service::kEgress)),
      absl::StrCat("--ingress_addr=", Addr(Service::kIngress)),
      absl::StrCat("--installer_addr=", Addr(Service::kInstaller)),
      absl::StrCat("--computer_name=", options_.name),
      // telec reads the owner token from there (doc/security.md).
      absl::StrCat("--data_dir=", data_dir()),
  };
}

std::vector<std::string> Computer::ServiceFlags() const {
  std::vector<std::string> flags = ClientFlags();
  flags.push_back(absl::StrCat("--redis_url=", options_.redis_url));
  flags.push_back(absl::StrCat("--cartridge_install=", options_.install_level));
  if (!options_.cluster.empty()) flags.push_back(absl::StrCat("--cluster=", options_.cluster));
  flags.insert(flags.end(), options_.extra_flags.begin(), options_.extra_flags.end());
  return flags;
}

absl::Status Computer::Launch() {
  for (Service s : {Service::kInstaller, Service::kEgress, Service::kIngress}) {
    absl::StatusOr<std::string> binary = BinaryPath(absl::StrCat("telec-", ServiceName(s)));
    if (!binary.ok()) return binary.status();
    testing::ChildOptions child;
    child.args.push_back(*binary);
    for (std::string& f : ServiceFlags()) child.args.push_back(std::move(f));
    if (auto it = options_.service_flags.find(ServiceName(s)); it != options_.service_flags.end()) {
      child.args.insert(child.args.end(), it->second.begin(), it->second.end());
    }
    child.log_path = dir_.File(absl::StrCat(ServiceName(s), ".log"));
    absl::StatusOr<std::unique_ptr<testing::ChildProcess>> started =
        testing::ChildProcess::Start(std::move(child));
    if (!started.ok()) return started.status();
    children_[s] = *std::move(started);
  }
  return absl::OkStatus();
}

absl::Status Computer::AwaitReady(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  std::string last;
  while (true) {
    for (auto& [service, child] : children_) {
      if (!child->Running()) {
        return absl::UnavailableError(absl::StrCat("telec-", ServiceName(service), " of ",
                                                   options_.name, " exited at start-up:\n",
                                                   Tail(child->ReadLog(), 10)));
      }
    }
    absl::StatusOr<testing::CommandResult> status = Telec({"status", "--json"}, absl::Seconds(10));
    if (status.ok() && status->exit_code == 0) return absl::OkStatus();
    last = status.ok() ? absl::StrCat("exit ", status->exit_code, ": ", status->out, status->err)
                       : std::string(status.status().message());
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(absl::StrCat(options_.name, " not ready within ",
                                                  absl::FormatDuration(timeout),
                                                  "; telec status: ", last, "\n", LogTails(5)));
}

absl::Status Computer::Signal(Service service, int signo) {
  auto it = children_.find(service);
  if (it == children_.end() || !it->second->Running()) {
    return absl::FailedPreconditionError(
        absl::StrCat("telec-", ServiceName(service), " of ", options_.name, " does not run"));
  }
  if (kill(it->second->pid(), signo) != 0) {
    return absl::InternalError(absl::StrCat("kill ", it->second->pid(), ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

std::string Computer::Stop() {
  std::string problems;
  for (Service s : {Service::kIngress, Service::kEgress, Service::kInstaller}) {
    auto it = children_.find(s);
    if (it == children_.end()) continue;
    testing::ChildProcess& child = *it->second;
    if (child.Running()) kill(child.pid(), SIGCONT);  // a test may have stopped it
    bool was_running = child.Running();
    child.Terminate();
    absl::StatusOr<testing::ExitInfo> exit = child.Wait(absl::Seconds(10));
    if (!exit.ok()) {
      child.Kill();
      (void)child.Wait(absl::Seconds(5));
      absl::StrAppend(&problems, options_.name, "/telec-", ServiceName(s),
                      ": did not stop within 10 s of SIGTERM (killed)\n");
    } else if (!was_running || !exit->exited() || exit->exit_code != 0) {
      absl::StrAppend(&problems, options_.name, "/telec-", ServiceName(s),
                      was_running ? "" : " had already ended:",
                      exit->exited() ? absl::StrCat(" exit code ", exit->exit_code)
                                     : absl::StrCat(" killed by signal ", exit->signal),
                      "\n", Tail(child.ReadLog(), 8), "\n");
    }
    children_.erase(it);
  }
  return problems;
}

void Computer::Kill() {
  for (auto& [service, child] : children_) child->Kill();
  for (auto& [service, child] : children_) (void)child->Wait(absl::Seconds(10));
  children_.clear();
}

absl::StatusOr<testing::CommandResult> Computer::Telec(const std::vector<std::string>& args,
                                                       absl::Duration timeout) {
  absl::StatusOr<std::string> telec = BinaryPath("telec");
  if (!telec.ok()) return telec.status();
  std::vector<std::string> argv = {*telec};
  argv.insert(argv.end(), args.begin(), args.end());
  for (std::string& f : ClientFlags()) argv.push_back(std::move(f));
  return testing::RunCommand(argv, {}, timeout);
}

absl::StatusOr<Json> Computer::TelecJson(const std::vector<std::string>& args) {
  std::vector<std::string> with_json = args;
  with_json.push_back("--json");
  absl::StatusOr<testing::CommandResult> r = Telec(with_json);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::InternalError(absl::StrCat("telec ", absl::StrJoin(with_json, " "), " on ",
                                            options_.name, ": exit ", r->exit_code, ": ", r->err,
                                            r->out));
  }
  return ParseJson(r->out);
}

absl::StatusOr<std::unique_ptr<testing::ChildProcess>> Computer::StartTelec(
    const std::vector<std::string>& args) {
  absl::StatusOr<std::string> telec = BinaryPath("telec");
  if (!telec.ok()) return telec.status();
  testing::ChildOptions child;
  child.args = {*telec};
  child.args.insert(child.args.end(), args.begin(), args.end());
  child.args.push_back("--json");
  for (std::string& f : ClientFlags()) child.args.push_back(std::move(f));
  child.log_path = dir_.File(absl::StrCat("telec-", ++tails_, ".log"));
  return testing::ChildProcess::Start(std::move(child));
}

std::string Computer::LogTails(int lines) const {
  std::string out;
  for (const auto& [service, child] : children_) {
    absl::StrAppend(&out, "--- ", options_.name, "/telec-", ServiceName(service), " (pid ",
                    child->pid(), ") ---\n", Tail(child->ReadLog(), lines), "\n");
  }
  return out;
}

std::map<std::string, int> CrashedNotificationsByWorker(Computer& c) {
  std::map<std::string, int> out;
  absl::StatusOr<Json> list =
      c.TelecJson({"notifications", "list", "--type", "system.worker.crashed", "--limit", "1000"});
  if (!list.ok() || !(*list)->IsArray()) return out;
  for (const rapidjson::Value& n : (*list)->GetArray()) {
    const rapidjson::Value* payload = Member(n, "payload");
    if (payload != nullptr) ++out[Str(*payload, "worker_name")];
  }
  return out;
}

EachOnce AwaitEachCrashedOnce(Computer& c, const std::vector<std::string>& tokens,
                              absl::Duration timeout) {
  std::map<std::string, int> tally;
  testing::WaitFor(
      [&] {
        tally = CrashedNotificationsByWorker(c);
        for (const std::string& t : tokens) {
          if (tally[t] == 0) return false;
        }
        return true;
      },
      timeout);
  EachOnce result;
  for (const std::string& t : tokens) {
    if (tally[t] == 0) ++result.missing;
    if (tally[t] > 1) result.doubled.push_back(absl::StrCat(t, " x", tally[t]));
  }
  return result;
}

}  // namespace teleclaude::mesh::e2e
