// InitProcess: environment -> flags -> glog -> validated Config, or one line
// on stderr and exit status 2.
//
// The command line is parsed here rather than by absl::ParseCommandLine
// because that one reports bad values on several lines and exits with status
// 1; DESIGN §6 wants exactly one clear line and nothing started. The syntax is
// absl's: --name=value, --name value, -name=value, --bool / --nobool, "--"
// ends the flags, --flagfile=a[,b] (one flag per line, '#' comments),
// --help, --version. Values are parsed by the flags themselves
// (CommandLineFlag::ParseFrom), so every registered absl flag works.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/config/config.h"
#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

// Flags that abseil itself may register; never taken from the environment.
bool IsAbseilFlag(const absl::CommandLineFlag& flag) {
  static const auto* const kNames = new absl::flat_hash_set<absl::string_view>{
      "flagfile",  "fromenv",     "tryfromenv", "undefok",   "help",    "helpfull",
      "helpshort", "helppackage", "helpon",     "helpmatch", "version", "only_check_args"};
  return kNames->contains(flag.Name()) || absl::StrContains(flag.Filename(), "absl/");
}

std::string EnvName(absl::string_view flag) {
  return absl::StrCat("TELEC_", absl::AsciiStrToUpper(flag));
}

std::string OneLine(absl::string_view s) {
  return absl::StrReplaceAll(absl::StripAsciiWhitespace(s),
                             {{"\r\n", " "}, {"\n", " "}, {"\r", " "}});
}

absl::Status BadValue(absl::string_view name, absl::string_view where, absl::string_view value,
                      absl::string_view error) {
  return absl::InvalidArgumentError(absl::StrCat(name, ": ", where, "\"", value,
                                                 "\" is not valid (", OneLine(error),
                                                 "); see --help for the expected form"));
}

class ArgParser {
 public:
  // Sets every flag that has a TELEC_<FLAG> variable.
  absl::Status ApplyEnvironment() {
    for (const auto& [name, flag] : absl::GetAllFlags()) {
      if (IsAbseilFlag(*flag)) continue;
      std::string env = EnvName(name);
      const char* value = std::getenv(env.c_str());
      if (value == nullptr) continue;
      std::string error;
      if (!flag->ParseFrom(value, &error)) {
        return BadValue(name, absl::StrCat(env, "="), value, error);
      }
    }
    return absl::OkStatus();
  }

  // Parses args[0..]; `from_file` names the flagfile they came from, if any.
  absl::Status Parse(const std::vector<std::string>& args, absl::string_view from_file) {
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& arg = args[i];
      if (flags_done_ || arg.size() < 2 || arg[0] != '-') {
        if (!from_file.empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat("flagfile: ", from_file, ": \"", arg,
                           "\" is not a flag; write one --name=value per line"));
        }
        positional_.push_back(arg);
        continue;
      }
      if (arg == "--") {
        flags_done_ = true;
        continue;
      }
      absl::string_view body(arg);
      body.remove_prefix(body[1] == '-' ? 2 : 1);
      absl::string_view name = body;
      std::optional<std::string> value;
      if (size_t eq = body.find('='); eq != absl::string_view::npos) {
        name = body.substr(0, eq);
        value = std::string(body.substr(eq + 1));
      }
      if (name == "help" || name == "helpfull" || name == "helpshort") {
        help_ = true;
        continue;
      }
      if (name == "version") {
        version_ = true;
        continue;
      }
      absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
      bool negated = false;
      if (flag == nullptr && absl::StartsWith(name, "no")) {
        absl::CommandLineFlag* positive = absl::FindCommandLineFlag(name.substr(2));
        if (positive != nullptr && positive->IsOfType<bool>() && !value) {
          flag = positive;
          negated = true;
          name = name.substr(2);
        }
      }
      if (name == "flagfile") {
        if (!value) {
          if (i + 1 >= args.size()) return NeedsValue(name);
          value = args[++i];
        }
        for (absl::string_view file : absl::StrSplit(*value, ',', absl::SkipEmpty())) {
          TM_RETURN_IF_ERROR(ParseFlagfile(std::string(file)));
        }
        continue;
      }
      if (flag == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, ": unknown flag", FromFile(from_file),
                         "; see --help for the flags this program takes"));
      }
      if (flag->IsOfType<bool>()) {
        if (!value) value = negated ? "false" : "true";
      } else if (!value) {
        if (i + 1 >= args.size()) return NeedsValue(name);
        value = args[++i];
      }
      std::string error;
      if (!flag->ParseFrom(*value, &error)) {
        return BadValue(name, FromFile(from_file), *value, error);
      }
    }
    return absl::OkStatus();
  }

  bool help() const { return help_; }
  bool version() const { return version_; }
  std::vector<std::string>& positional() { return positional_; }

 private:
  static std::string FromFile(absl::string_view file) {
    return file.empty() ? "" : absl::StrCat(" (in flagfile ", file, ") ");
  }

  static absl::Status NeedsValue(absl::string_view name) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": missing value; write --", name, "=VALUE"));
  }

  absl::Status ParseFlagfile(const std::string& path) {
    if (++flagfile_depth_ > 10) {
      return absl::InvalidArgumentError(
          absl::StrCat("flagfile: ", path, ": flagfiles nest too deeply; remove the cycle"));
    }
    std::ifstream in(path);
    if (!in) {
      return absl::InvalidArgumentError(absl::StrCat("flagfile: cannot read ", path, ": ",
                                                     std::strerror(errno), "; check the path"));
    }
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
      absl::string_view trimmed = absl::StripAsciiWhitespace(line);
      if (trimmed.empty() || trimmed[0] == '#') continue;
      lines.emplace_back(trimmed);
    }
    bool saved_done = flags_done_;
    flags_done_ = false;
    absl::Status status = Parse(lines, path);
    flags_done_ = saved_done;
    --flagfile_depth_;
    return status;
  }

  bool flags_done_ = false;
  bool help_ = false;
  bool version_ = false;
  int flagfile_depth_ = 0;
  std::vector<std::string> positional_;
};

[[noreturn]] void Fail(absl::string_view program, absl::string_view message) {
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(),
               OneLine(message).c_str());
  std::fflush(stderr);
  std::exit(2);
}

void PrintHelp(absl::string_view program, absl::string_view usage) {
  std::string out = absl::StrCat(program, ": ", usage,
                                 "\n\nFlags (each also "
                                 "settable as TELEC_<FLAG> in the "
                                 "environment; flags win):\n");
  std::vector<absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!IsAbseilFlag(*flag)) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(), [](auto* a, auto* b) { return a->Name() < b->Name(); });
  for (absl::CommandLineFlag* flag : flags) {
    absl::StrAppend(&out, "  --", flag->Name(), "  ", flag->Help(), " (default: \"",
                    flag->DefaultValue(), "\")\n");
  }
  absl::StrAppend(&out,
                  "  --flagfile=FILE  read flags from FILE, one per line\n"
                  "  --help, --version\n");
  std::fputs(out.c_str(), stdout);
}

void InitLogging(absl::string_view program, absl::string_view level) {
  // glog keeps the pointer: the name must live for the whole process.
  static const std::string* const kName = new std::string(program);
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = level == "error"     ? google::GLOG_ERROR
                      : level == "warning" ? google::GLOG_WARNING
                                           : google::GLOG_INFO;
  FLAGS_v = level == "debug" ? 1 : 0;
  google::InitGoogleLogging(kName->c_str());
}

}  // namespace

Config InitProcess(int argc, char** argv, std::string_view std_program, std::string_view std_usage,
                   std::vector<std::string>* positional, ConfigFor purpose) {
  const absl::string_view program = ToAbsl(std_program);
  const absl::string_view usage = ToAbsl(std_usage);
  // Debian's abseil is built without NDEBUG, so by default every
  // absl::Mutex lock (ours and gRPC's) also records the lock order in one
  // process-wide graph under a global spin lock — measured at several percent
  // of the pipeline worker's CPU. Lock discipline is checked at compile time
  // (clang -Wthread-safety in scripts/lint.sh) and unit tests, which do not
  // call InitProcess, keep the run-time detection.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(usage);
  ArgParser parser;
  if (absl::Status env = parser.ApplyEnvironment(); !env.ok()) {
    Fail(program, env.message());
  }
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (absl::Status parsed = parser.Parse(args, ""); !parsed.ok()) {
    Fail(program, parsed.message());
  }
  if (parser.help()) {
    PrintHelp(program, usage);
    std::exit(0);
  }
  if (parser.version()) {
    std::printf("%.*s (%.*s)\n", static_cast<int>(program.size()), program.data(),
                static_cast<int>(VersionString().size()), VersionString().data());
    std::exit(0);
  }
  if (positional == nullptr && !parser.positional().empty()) {
    Fail(program, absl::StrCat("\"", parser.positional().front(),
                               "\": unexpected argument; this program takes "
                               "only --flags (see --help)"));
  }
  absl::StatusOr<Config> config = ConfigFromFlags(purpose);
  if (!config.ok()) Fail(program, config.status().message());
  InitLogging(program, config->log_level);
  if (purpose == ConfigFor::kService && config->redis.use_tls && config->redis.tls.insecure) {
    LOG(WARNING) << "--redis_tls_insecure: the certificate of " << config->redis.ToString()
                 << " is NOT verified: anyone on the network path can pose as the Redis server "
                    "and read or change all mesh traffic; give its CA with --redis_tls_ca instead";
  }
  if (positional != nullptr) {
    *positional = std::move(parser.positional());
  }
  return *std::move(config);
}

}  // namespace teleclaude::mesh
