// The telec program: dispatch of a parsed command line to its command, and
// the mapping of the outcome to output and exit status. main.cc is the thin
// wrapper that parses arguments and configuration.
#ifndef TELECLAUDE_MESH_CLI_TELEC_TELEC_H_
#define TELECLAUDE_MESH_CLI_TELEC_TELEC_H_

#include <ostream>

#include "absl/time/time.h"
#include "cli/telec/arguments.h"
#include "common/config/config.h"

namespace teleclaude::mesh::telec {

// Runs `invocation` (REQUIRES: a command, no error, not help/version) with
// `config`. Prints results to `out`; on failure prints exactly one line
// "telec: <message>" to `err`. Returns the exit status (service_clients.h
// ExitCode). `call_timeout` bounds each unary call.
int RunTelec(const Invocation& invocation, const Config& config, std::ostream& out,
             std::ostream& err, absl::Duration call_timeout = absl::Seconds(15));

// Handles what needs no configuration: --help (to `out`, 0), --version
// (to `out`, 0) and command-line errors (message and usage to `err`, 2).
// Returns the exit status when it handled the invocation, -1 otherwise.
int HandleWithoutConfig(const Invocation& invocation, std::ostream& out, std::ostream& err);

}  // namespace teleclaude::mesh::telec

#endif  // TELECLAUDE_MESH_CLI_TELEC_TELEC_H_
