// telec: the command-line client of one computer of the mesh (DESIGN §2).
// Parses the command words and options, hands the configuration flags (and
// TELEC_* environment) to InitProcess as a client, runs the command.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "cli/telec/arguments.h"
#include "cli/telec/telec.h"
#include "common/config/config.h"

int main(int argc, char** argv) {
  using namespace teleclaude::mesh;
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  telec::Invocation invocation = telec::ParseArguments(args);
  if (int code = telec::HandleWithoutConfig(invocation, std::cout, std::cerr); code >= 0) {
    return code;
  }
  // A client logs only what matters to the person at the terminal; gRPC's
  // connection chatter is not (--log_level or TELEC_LOG_LEVEL still win).
  absl::SetFlag(&FLAGS_log_level, "error");
  if (std::getenv("GRPC_VERBOSITY") == nullptr) setenv("GRPC_VERBOSITY", "NONE", 1);
  std::vector<std::string> init_args = {"telec"};
  init_args.insert(init_args.end(), invocation.config_flags.begin(), invocation.config_flags.end());
  std::vector<char*> init_argv;
  for (std::string& a : init_args) init_argv.push_back(a.data());
  Config config =
      InitProcess(static_cast<int>(init_argv.size()), init_argv.data(), "telec",
                  "telec COMMAND ... [options]; see telec --help", nullptr, ConfigFor::kClient);
  return telec::RunTelec(invocation, config, std::cout, std::cerr);
}
