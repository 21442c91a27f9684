// telec peers | peers forget | peers trust (doc/membership.md, doc/security.md §6).
#include <optional>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "cli/telec/commands.h"
#include "cli/telec/format.h"
#include "cli/telec/json_out.h"
#include "common/base/strings.h"
#include "common/mesh/peer_name.h"

namespace teleclaude::mesh::telec {
namespace {

// "live", "away since 3 min ago (stopped)", "forgotten", "forgotten
// (retention)", "key changed".
std::string StateText(const v1::Peer& peer, absl::Time now) {
  if (peer.state() == "away") {
    return Cat("away since ", RelativeTimestamp(peer.state_since(), now),
               peer.stopping() ? " (stopped)" : "");
  }
  if (peer.state() == "forgotten") {
    return peer.forgotten_by() == "retention" ? "forgotten (retention)" : "forgotten";
  }
  if (peer.state() == "key_changed") return "key changed";
  return peer.state();
}

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

}  // namespace

PeerCounts CountPeers(const v1::ListPeersResponse& peers) {
  PeerCounts n;
  for (const v1::Peer& p : peers.peers()) {
    if (p.state() == "live") ++n.live;
    if (p.state() == "away") ++n.away;
    if (p.state() == "forgotten") ++n.forgotten;
    if (p.destination() && p.cluster_peer()) ++n.cluster;
  }
  return n;
}

absl::Status Peers(CommandContext& ctx) {
  v1::ListPeersResponse response;
  auto context = ctx.clients.NewContext();
  grpc::Status status =
      ctx.clients.egress().ListPeers(context.get(), v1::ListPeersRequest(), &response);
  if (!status.ok()) return ctx.clients.Explain(Service::kEgress, status);
  // Delivery per peer, when egress answers (a second call: the list above
  // is what matters).
  std::optional<v1::StatsResponse> stats;
  {
    v1::StatsResponse r;
    auto stats_context = ctx.clients.NewContext();
    if (ctx.clients.egress().Stats(stats_context.get(), v1::StatsRequest(), &r).ok()) {
      stats = std::move(r);
    }
  }
  const v1::StatsResponse* stats_or_null = stats.has_value() ? &*stats : nullptr;
  if (ctx.json()) {
    std::string text;
    json::Writer w(&text);
    WritePeers(response, stats_or_null, w);
    ctx.out << text << "\n";
    return absl::OkStatus();
  }
  ctx.out << "this computer: " << response.computer_name() << ", "
          << (response.cluster().empty() ? "no cluster" : Cat("cluster ", response.cluster()))
          << "; away peers stay destinations for "
          << absl::FormatDuration(absl::Seconds(response.peer_retention_s())) << "\n";
  if (response.peers().empty()) {
    ctx.out << "no peers seen yet\n";
    return absl::OkStatus();
  }
  Table table({"PEER", "STATE", "CLUSTER", "LAST SEEN", "FINGERPRINT", "FORWARDED"});
  for (const v1::Peer& peer : response.peers()) {
    // Names come from other computers' heartbeats: anything but a plain
    // name is shown quoted and escaped (DisplayPeerName).
    std::string cluster = peer.cluster().empty() ? "-" : DisplayPeerName(peer.cluster());
    if (peer.cluster_peer()) cluster += " (ours)";
    std::string fingerprint = OrDash(peer.fingerprint());
    if (!peer.fingerprint().empty()) {
      CatTo(fingerprint, " (", peer.key_source().empty() ? "?" : peer.key_source(), ", ",
            peer.verified() ? "verified" : "unverified", ")");
    }
    if (!peer.pending_fingerprint().empty()) {
      CatTo(fingerprint, fingerprint == "-" ? " " : "; ", "offers ", peer.pending_fingerprint(),
            " (telec peers trust)");
    }
    std::string forwarded = "-";
    if (stats_or_null != nullptr) {
      auto it = stats_or_null->forwarded_per_peer().find(peer.name());
      forwarded = std::to_string(it == stats_or_null->forwarded_per_peer().end() ? 0 : it->second);
    }
    table.AddRow({DisplayPeerName(peer.name()), StateText(peer, ctx.now), cluster,
                  RelativeTimestamp(peer.last_seen(), ctx.now, "-"), fingerprint, forwarded});
  }
  ctx.out << table.Render();
  return absl::OkStatus();
}

absl::Status PeersForget(CommandContext& ctx) {
  v1::ForgetPeerRequest request;
  request.set_name(ctx.invocation.args[0]);
  v1::ForgetPeerResponse response;
  auto context = ctx.clients.NewContext();
  grpc::Status status = ctx.clients.ingress().ForgetPeer(context.get(), request, &response);
  if (!status.ok()) return ctx.clients.Explain(Service::kIngress, status);
  if (ctx.json()) {
    std::string text;
    json::Writer w(&text);
    w.BeginObject().Key("forgotten").String(response.name());
    w.Key("previous_state").String(response.previous_state()).EndObject();
    ctx.out << text << "\n";
    return absl::OkStatus();
  }
  const std::string name = DisplayPeerName(response.name());
  if (response.previous_state() == "forgotten") {
    ctx.out << name << " was already forgotten\n";
  } else if (response.previous_state() == "live") {
    ctx.out << "forgot " << name
            << " (it was live: its next heartbeat brings it back as a new computer)\n";
  } else {
    ctx.out << "forgot " << name << " (was " << response.previous_state()
            << "): no longer a destination or a trusted sender until it heartbeats again\n";
  }
  return absl::OkStatus();
}

absl::Status PeersTrust(CommandContext& ctx) {
  const std::string& name = ctx.invocation.args[0];
  std::optional<std::string> expected = ctx.invocation.Get("fingerprint");
  if (!expected.has_value()) {
    // Two steps on purpose: the person compares the fingerprint out of band
    // (telec status on that computer) and then types it.
    v1::ListPeersResponse peers;
    auto context = ctx.clients.NewContext();
    grpc::Status status =
        ctx.clients.egress().ListPeers(context.get(), v1::ListPeersRequest(), &peers);
    if (!status.ok()) return ctx.clients.Explain(Service::kEgress, status);
    for (const v1::Peer& peer : peers.peers()) {
      if (peer.name() != name) continue;
      if (peer.pending_fingerprint().empty()) {
        return absl::FailedPreconditionError(
            Cat(DisplayPeerName(name),
                " has no key waiting to be trusted (pinned: ", OrDash(peer.fingerprint()), ")"));
      }
      return absl::FailedPreconditionError(
          Cat(DisplayPeerName(name), " offers key ", peer.pending_fingerprint(),
              "; compare it with `telec status` on that computer, then run: telec peers trust ",
              DisplayPeerName(name), " --fingerprint=", peer.pending_fingerprint()));
    }
    return absl::NotFoundError(
        Cat("no computer named ", DisplayPeerName(name), " is known (telec peers lists them)"));
  }
  v1::TrustPeerKeyRequest request;
  request.set_name(name);
  request.set_expected_fingerprint(*expected);
  v1::TrustPeerKeyResponse response;
  auto context = ctx.clients.NewContext();
  grpc::Status status = ctx.clients.ingress().TrustPeerKey(context.get(), request, &response);
  if (!status.ok()) return ctx.clients.Explain(Service::kIngress, status);
  if (ctx.json()) {
    std::string text;
    json::Writer w(&text);
    w.BeginObject().Key("trusted").String(response.name());
    w.Key("fingerprint").String(response.fingerprint()).EndObject();
    ctx.out << text << "\n";
    return absl::OkStatus();
  }
  ctx.out << "trusted " << DisplayPeerName(response.name()) << "'s key " << response.fingerprint()
          << ": its signed heartbeats and messages are accepted again\n";
  return absl::OkStatus();
}

}  // namespace teleclaude::mesh::telec
