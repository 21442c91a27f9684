// What every telec command receives. Commands print their result to `out`
// and return OK, or return an error whose message is one line of plain words
// (telec prints it as "telec: <message>" on stderr and exits with
// ExitCodeFor(status)).
#ifndef TELECLAUDE_MESH_CLI_TELEC_COMMAND_CONTEXT_H_
#define TELECLAUDE_MESH_CLI_TELEC_COMMAND_CONTEXT_H_

#include <ostream>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cli/telec/arguments.h"
#include "cli/telec/service_clients.h"
#include "common/config/config.h"

namespace teleclaude::mesh::telec {

struct CommandContext {
  const Config& config;
  const Invocation& invocation;
  ServiceClients& clients;
  std::ostream& out;
  std::ostream& err;
  absl::Time now;  // for relative times

  bool json() const { return invocation.Switch("json"); }
};

// One command of the tree; `ctx.invocation.level` says which.
using CommandFunction = absl::Status (*)(CommandContext& ctx);

}  // namespace teleclaude::mesh::telec

#endif  // TELECLAUDE_MESH_CLI_TELEC_COMMAND_CONTEXT_H_
