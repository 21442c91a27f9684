#include "cli/telec/telec.h"

#include <map>
#include <string>

#include "cli/telec/commands.h"
#include "cli/telec/service_clients.h"
#include "common/base/strings.h"

namespace teleclaude::mesh::telec {
namespace {

const std::map<std::string_view, CommandFunction>& Commands() {
  static const auto* const kCommands = new std::map<std::string_view, CommandFunction>{
      {"cartridges list", CartridgesList},
      {"cartridges show", CartridgesShow},
      {"cartridges activate", CartridgesActivate},
      {"cartridges reject", CartridgesReject},
      {"cartridges deactivate", CartridgesDeactivate},
      {"cartridges remove", CartridgesRemove},
      {"cartridges publish", CartridgesPublish},
      {"events emit", EventsEmit},
      {"events tail", EventsTail},
      {"events types", EventsTypes},
      {"notifications list", NotificationsList},
      {"notifications show", NotificationsShow},
      {"notifications seen", NotificationsSeen},
      {"notifications resolve", NotificationsResolve},
      {"ingress quarantined", IngressQuarantined},
      {"peers", Peers},
      {"peers forget", PeersForget},
      {"peers trust", PeersTrust},
      {"health", Health},
      {"status", Status},
      {"completion", Completion},
  };
  return *kCommands;
}

// One line, whatever the message holds.
std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

int HandleWithoutConfig(const Invocation& inv, std::ostream& out, std::ostream& err) {
  if (!inv.error.empty()) {
    err << "telec: " << inv.error << "\n" << UsageText(inv.level);
    return kExitUsage;
  }
  if (inv.help) {
    out << HelpText(inv.level);
    return kExitOk;
  }
  if (inv.version) {
    out << "telec (" << VersionString() << ")\n";
    return kExitOk;
  }
  return -1;
}

int RunTelec(const Invocation& invocation, const Config& config, std::ostream& out,
             std::ostream& err, absl::Duration call_timeout) {
  auto it = Commands().find(invocation.level);
  if (it == Commands().end()) {
    // Every leaf of arguments.cc has an entry above.
    err << "telec: \"" << invocation.level << "\" is not implemented\n";
    return kExitRefused;
  }
  ServiceClients clients(config, call_timeout);
  CommandContext ctx{config, invocation, clients, out, err, absl::Now()};
  absl::Status status = it->second(ctx);
  out.flush();
  if (status.ok()) return kExitOk;
  err << "telec: " << OneLine(ToStd(status.message())) << "\n";
  err.flush();
  return ExitCodeFor(status);
}

}  // namespace teleclaude::mesh::telec
