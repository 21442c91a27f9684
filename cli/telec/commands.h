// The telec commands, one function per command of arguments.cc's tree.
// Each prints its result (a table, a confirmation line, or --json) to
// ctx.out and returns OK, or returns an error in plain words (see
// command_context.h). They call the services through ctx.clients only.
#ifndef TELECLAUDE_MESH_CLI_TELEC_COMMANDS_H_
#define TELECLAUDE_MESH_CLI_TELEC_COMMANDS_H_

#include <string>

#include "absl/status/status.h"
#include "cli/telec/command_context.h"
#include "teleclaude/mesh/v1/pipeline.pb.h"

namespace teleclaude::mesh::telec {

// cartridges_command.cc
absl::Status CartridgesList(CommandContext& ctx);
absl::Status CartridgesShow(CommandContext& ctx);
absl::Status CartridgesActivate(CommandContext& ctx);
absl::Status CartridgesReject(CommandContext& ctx);
absl::Status CartridgesDeactivate(CommandContext& ctx);
absl::Status CartridgesRemove(CommandContext& ctx);
absl::Status CartridgesPublish(CommandContext& ctx);

// events_command.cc
absl::Status EventsEmit(CommandContext& ctx);
// Follows WatchEvents until SIGINT / SIGTERM (then OK) or the stream ends.
absl::Status EventsTail(CommandContext& ctx);
// One human line of `events tail` (local clock time, no newline), and the
// header line above them.
std::string FormatTailLine(const v1::WatchedEvent& event);
std::string TailHeader();
// The built-in event catalog (no service needed), optionally filtered.
absl::Status EventsTypes(CommandContext& ctx);

// notifications_command.cc
absl::Status NotificationsList(CommandContext& ctx);
absl::Status NotificationsShow(CommandContext& ctx);
absl::Status NotificationsSeen(CommandContext& ctx);
absl::Status NotificationsResolve(CommandContext& ctx);

// peers_command.cc
// Every computer membership remembers, with its state (live / away since
// ... / forgotten), last seen, cluster and (empty until identities are
// wired) fingerprint and verified.
absl::Status Peers(CommandContext& ctx);
// `peers forget NAME`: Ingress.ForgetPeer.
absl::Status PeersForget(CommandContext& ctx);
absl::Status PeersTrust(CommandContext& ctx);
// How many peers of a ListPeers answer are in each state; `cluster` counts
// the live and away ones of this computer's cluster.
struct PeerCounts {
  int live = 0;
  int away = 0;
  int forgotten = 0;
  int cluster = 0;
};
PeerCounts CountPeers(const v1::ListPeersResponse& peers);

// ingress_command.cc
// `ingress quarantined`: Ingress.ListQuarantined, newest first.
absl::Status IngressQuarantined(CommandContext& ctx);

// completion_command.cc
// `completion bash`: the bash completion script of telec's command table.
absl::Status Completion(CommandContext& ctx);

// status_command.cc
// Prints the screen even when a service is down; then returns UNAVAILABLE
// naming the services that are down.
absl::Status Status(CommandContext& ctx);
// Checks the named services (default all three) with grpc.health.v1; OK when
// every one is SERVING, else UNAVAILABLE naming those that are not.
absl::Status Health(CommandContext& ctx);

}  // namespace teleclaude::mesh::telec

#endif  // TELECLAUDE_MESH_CLI_TELEC_COMMANDS_H_
