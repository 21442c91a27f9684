// telec status | health.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/telec/commands.h"
#include "cli/telec/format.h"
#include "cli/telec/json_out.h"
#include "common/base/strings.h"

namespace teleclaude::mesh::telec {
namespace {

constexpr absl::Duration kHealthTimeout = absl::Seconds(2);

struct ServiceState {
  Service service;
  absl::Status health;
  // It answered (SERVING or NOT_SERVING); CheckHealth says NOT_SERVING with
  // FAILED_PRECONDITION.
  bool reachable() const {
    return health.ok() || health.code() == absl::StatusCode::kFailedPrecondition;
  }
};

// The Redis probe of the first reachable service that has one (egress, then
// ingress; the installer does not use Redis): what `status` shows on its
// Redis line (common/grpc/redis_probe.h).
std::optional<v1::ProbeResult> RedisProbe(CommandContext& ctx,
                                          const std::vector<ServiceState>& services) {
  for (const ServiceState& s : services) {
    if (s.service == Service::kInstaller || !s.reachable()) continue;
    auto context = ctx.clients.NewContext();
    v1::GetReadinessResponse readiness;
    grpc::Status status = ctx.clients.readiness(s.service).GetReadiness(
        context.get(), v1::GetReadinessRequest(), &readiness);
    if (!status.ok()) continue;
    for (const v1::ProbeResult& p : readiness.probes()) {
      if (p.name() == "redis") return p;
    }
  }
  return std::nullopt;
}

// "redis://127.0.0.1:6379/0, connected (PING 0.3 ms)" or
// "..., NOT CONNECTED since T: <error>".
std::string RedisLine(const std::optional<v1::ProbeResult>& redis) {
  if (!redis.has_value()) return "unknown (egress and ingress are down)";
  if (redis->ok()) {
    return absl::StrFormat("%s, connected (PING %.1f ms)", redis->target(),
                           static_cast<double>(redis->round_trip_us()) / 1000.0);
  }
  return Cat(redis->target(), ", NOT CONNECTED",
             redis->failing_since().empty() ? "" : Cat(" since ", redis->failing_since()), ": ",
             redis->error());
}

std::string Line(std::string_view key, std::string_view value) {
  std::string out(key);
  out.resize(std::max<size_t>(out.size() + 1, 13), ' ');
  return Cat(out, value, "\n");
}

std::string Forwarded(const v1::StatsResponse& stats) {
  std::map<std::string, int64_t> sorted(stats.forwarded_per_peer().begin(),
                                        stats.forwarded_per_peer().end());
  if (sorted.empty()) return "none";
  std::vector<std::string> parts;
  for (const auto& [peer, n] : sorted) parts.push_back(Cat(peer, " ", Count(n)));
  return absl::StrJoin(parts, ", ");
}

// "; 1 failed, 2 inactive" for the cartridge states that need a look (none:
// "").
std::string OtherCounts(const v1::GetStatsResponse& installer) {
  std::vector<std::string> parts;
  for (const auto& [n, what] : {std::pair{installer.failed_count(), "failed"},
                                std::pair{installer.suspended_count(), "suspended"},
                                std::pair{installer.inactive_count(), "inactive"}}) {
    if (n > 0) parts.push_back(Cat(n, " ", what));
  }
  return parts.empty() ? "" : Cat("; ", absl::StrJoin(parts, ", "));
}

}  // namespace

absl::Status Status(CommandContext& ctx) {
  std::vector<ServiceState> services;
  for (Service s : {Service::kEgress, Service::kIngress, Service::kInstaller}) {
    services.push_back({s, ctx.clients.CheckHealth(s, kHealthTimeout)});
  }
  auto up = [&](Service s) { return services[static_cast<int>(s)].reachable(); };
  // What each service tells about itself; nullopt when it is down or the
  // call failed (the error is kept for the screen).
  std::optional<v1::StatsResponse> stats;
  std::optional<v1::ListPeersResponse> peers;
  std::optional<v1::GetStatsResponse> installer;
  std::optional<v1::IngressStatusResponse> ingress;
  std::vector<std::string> errors;
  auto note = [&](Service s, const grpc::Status& status) {
    absl::Status explained = ctx.clients.Explain(s, status);
    errors.emplace_back(ToStd(explained.message()));
  };
  if (up(Service::kEgress)) {
    v1::StatsResponse r;
    auto c1 = ctx.clients.NewContext();
    grpc::Status s1 = ctx.clients.egress().Stats(c1.get(), v1::StatsRequest(), &r);
    if (s1.ok())
      stats = r;
    else
      note(Service::kEgress, s1);
    v1::ListPeersResponse p;
    auto c2 = ctx.clients.NewContext();
    grpc::Status s2 = ctx.clients.egress().ListPeers(c2.get(), v1::ListPeersRequest(), &p);
    if (s2.ok())
      peers = p;
    else
      note(Service::kEgress, s2);
  }
  if (up(Service::kInstaller)) {
    v1::GetStatsResponse r;
    auto c = ctx.clients.NewContext();
    grpc::Status s = ctx.clients.installer().GetStats(c.get(), v1::GetStatsRequest(), &r);
    if (s.ok())
      installer = r;
    else
      note(Service::kInstaller, s);
  }
  if (up(Service::kIngress)) {
    v1::IngressStatusResponse r;
    auto c = ctx.clients.NewContext();
    grpc::Status s = ctx.clients.ingress().Status(c.get(), v1::IngressStatusRequest(), &r);
    if (s.ok())
      ingress = r;
    else
      note(Service::kIngress, s);
  }
  std::vector<std::string> down;
  std::vector<std::string> not_serving;
  for (const ServiceState& s : services) {
    if (!s.reachable()) {
      down.emplace_back(ServiceName(s.service));
    } else if (!s.health.ok()) {
      not_serving.emplace_back(ServiceName(s.service));
    }
  }
  const std::optional<v1::ProbeResult> redis = RedisProbe(ctx, services);
  std::string computer = stats ? stats->computer_name() : ctx.config.computer_name;
  std::string cluster =
      stats ? stats->cluster() : (ctx.config.cluster ? *ctx.config.cluster : std::string());

  if (ctx.json()) {
    std::string text;
    json::Writer j(&text);
    j.BeginObject();
    j.Key("computer_name").String(computer);
    j.Key("cluster");
    if (cluster.empty())
      j.Null();
    else
      j.String(cluster);
    j.Key("services").BeginArray();
    for (const ServiceState& s : services) {
      j.BeginObject();
      j.Key("name").String(ServiceName(s.service));
      j.Key("address").String(ctx.clients.address(s.service));
      j.Key("up").Bool(s.reachable());
      j.Key("serving").Bool(s.health.ok());
      j.Key("error");
      if (s.health.ok())
        j.Null();
      else
        j.String(ToStd(s.health.message()));
      j.EndObject();
    }
    j.EndArray();
    j.Key("redis");
    if (redis) {
      j.BeginObject();
      j.Key("address").String(redis->target());
      j.Key("connected").Bool(redis->ok());
      j.Key("round_trip_us").Int(redis->round_trip_us());
      j.Key("error");
      if (redis->ok())
        j.Null();
      else
        j.String(redis->error());
      j.EndObject();
    } else {
      j.Null();
    }
    j.Key("peers");
    if (peers) {
      const PeerCounts n = CountPeers(*peers);
      j.BeginObject().Key("live").Int(n.live).Key("away").Int(n.away);
      j.Key("forgotten").Int(n.forgotten).Key("cluster").Int(n.cluster).EndObject();
    } else {
      j.Null();
    }
    j.Key("sovereignty_level");
    if (installer)
      j.String(installer->sovereignty_level());
    else
      j.Null();
    j.Key("pending_count");
    if (installer)
      j.Int(installer->pending_count());
    else
      j.Null();
    if (installer) {
      j.Key("failed_count").Int(installer->failed_count());
      j.Key("suspended_count").Int(installer->suspended_count());
      j.Key("inactive_count").Int(installer->inactive_count());
    }
    j.Key("outbox_depth");
    if (stats)
      j.Int(stats->outbox_depth());
    else
      j.Null();
    j.Key("pipeline");
    if (stats) {
      j.BeginObject();
      j.Key("inputs_processed").Int(stats->inputs_processed());
      j.Key("inputs_duplicate").Int(stats->inputs_duplicate());
      j.Key("inputs_invalid").Int(stats->inputs_invalid());
      j.Key("local_stream_lag").Int(stats->local_stream_lag());
      j.Key("outbox_depth").Int(stats->outbox_depth());
      j.Key("outbox_dropped").Int(stats->outbox_dropped());
      j.Key("invocations_unsent").Int(stats->invocations_unsent());
      j.Key("pushes_unsent").Int(stats->pushes_unsent());
      j.Key("input_holds").Int(stats->input_holds());
      j.Key("wal_checkpoints").Int(stats->wal_checkpoints());
      // Active cartridges that cannot run now -> why (a Python cartridge
      // while its sandbox runner is down).
      j.Key("cartridges_unavailable").BeginObject();
      for (const v1::CartridgeCounters& c : stats->cartridges()) {
        if (!c.unavailable().empty()) j.Key(c.name()).String(c.unavailable());
      }
      j.EndObject();
      j.Key("forwarded_per_peer").BeginObject();
      std::map<std::string, int64_t> sorted(stats->forwarded_per_peer().begin(),
                                            stats->forwarded_per_peer().end());
      for (const auto& [peer, n] : sorted) j.Key(peer).Int(n);
      j.EndObject();
      j.Key("outbox_per_peer").BeginObject();
      for (const v1::PeerOutbox& p : stats->outbox_per_peer()) {
        j.Key(p.peer()).BeginObject();
        j.Key("waiting").Int(p.waiting());
        j.Key("sent").Int(p.sent());
        j.Key("dropped").Int(p.dropped());
        j.Key("held").Bool(p.held());
        j.Key("failing").Bool(p.failing());
        j.EndObject();
      }
      j.EndObject();
      j.EndObject();
    } else {
      j.Null();
    }
    j.Key("ingress");
    if (ingress) {
      j.BeginObject();
      j.Key("trust_mode").String(ingress->trust_mode());
      j.Key("fingerprint").String(ingress->fingerprint());
      j.Key("received").Int(ingress->received());
      j.Key("accepted").Int(ingress->accepted());
      j.Key("flagged").Int(ingress->flagged());
      j.Key("quarantined").Int(ingress->quarantined());
      j.Key("malformed").Int(ingress->malformed());
      j.Key("non_mesh_ignored").Int(ingress->non_mesh_ignored());
      j.Key("lag").Int(ingress->lag());
      j.Key("rejected_by_reason").BeginObject();
      std::map<std::string, int64_t> sorted(ingress->rejected_by_reason().begin(),
                                            ingress->rejected_by_reason().end());
      for (const auto& [reason, n] : sorted) j.Key(reason).Int(n);
      j.EndObject();
      j.EndObject();
    } else {
      j.Null();
    }
    j.Key("errors").BeginArray();
    for (const std::string& e : errors) j.String(e);
    j.EndArray();
    j.EndObject();
    ctx.out << text << "\n";
  } else {
    std::string out;
    out += Line("computer",
                Cat(computer, ", ", cluster.empty() ? "no cluster" : Cat("cluster ", cluster),
                    stats ? "" : " (from the configuration; egress is down)"));
    Table table({"", "", "", ""});
    for (const ServiceState& s : services) {
      table.AddRow({std::string(ServiceName(s.service)), ctx.clients.address(s.service),
                    s.health.ok() ? "up" : (s.reachable() ? "NOT_SERVING" : "DOWN"),
                    s.health.ok() ? ""
                    : s.health.code() == absl::StatusCode::kUnavailable
                        ? "not reachable"
                        : std::string(ToStd(s.health.message()))});
    }
    std::string rows = table.Render();
    rows.erase(0, rows.find('\n') + 1);
    bool first = true;
    for (absl::string_view row : absl::StrSplit(rows, '\n', absl::SkipEmpty())) {
      out += Line(first ? "services" : "", ToStd(row));
      first = false;
    }
    out += Line("redis", RedisLine(redis));
    if (peers) {
      const PeerCounts n = CountPeers(*peers);
      out +=
          Line("peers", Cat(n.live, " live, ", n.away, " away, ", n.cluster, " in this cluster"));
    } else {
      out += Line("peers", "unknown (egress is down)");
    }
    if (installer) {
      out +=
          Line("sovereignty",
               Cat(installer->sovereignty_level(), ", ", installer->pending_count(), " cartridge",
                   installer->pending_count() == 1 ? "" : "s", " pending (promotion after ",
                   installer->promotion_threshold(), " invocations)", OtherCounts(*installer)));
    } else {
      out += Line("sovereignty", "unknown (installer is down)");
    }
    if (stats) {
      out += Line("pipeline", Cat("processed ", Count(stats->inputs_processed()), ", duplicate ",
                                  Count(stats->inputs_duplicate()), ", invalid ",
                                  Count(stats->inputs_invalid()), ", local stream lag ",
                                  Count(stats->local_stream_lag())));
      out += Line(
          "outbox",
          Cat("depth ", Count(stats->outbox_depth()), ", dropped ", Count(stats->outbox_dropped()),
              ", input held back ", Count(stats->input_holds()), " time",
              stats->input_holds() == 1 ? "" : "s", "; forwarded: ", Forwarded(*stats)));
      // Cartridges that cannot run now (skipped, the events flow on).
      for (const v1::CartridgeCounters& c : stats->cartridges()) {
        if (c.unavailable().empty()) continue;
        out += Line("cartridges", Cat(c.name(), " not running (", Count(c.skipped()),
                                      " events skipped): ", c.unavailable()));
      }
      // Peers with something to say: waiting, dropped, held or failing.
      for (const v1::PeerOutbox& p : stats->outbox_per_peer()) {
        if (p.waiting() == 0 && p.dropped() == 0 && !p.held() && !p.failing()) continue;
        out += Line("", Cat("  to ", p.peer(), ": waiting ", Count(p.waiting()), ", dropped ",
                            Count(p.dropped()), p.held() ? ", held (its inbox is full)" : "",
                            p.failing() ? ", failing" : ""));
      }
    } else {
      out += Line("pipeline", "unknown (egress is down)");
      out += Line("outbox", "unknown (egress is down)");
    }
    if (ingress) {
      out += Line("identity", Cat("fingerprint ", ingress->fingerprint(),
                                  ingress->trusted_keys() ? " (peers pinned by --trusted_keys)"
                                                          : " (peers pinned on first use)"));
      out +=
          Line("ingress", Cat("received ", Count(ingress->received()), ", accepted ",
                              Count(ingress->accepted()), ", flagged ", Count(ingress->flagged()),
                              ", quarantined ", Count(ingress->quarantined()), ", malformed ",
                              Count(ingress->malformed()), ", lag ", Count(ingress->lag()),
                              " (trust mode ", ingress->trust_mode(), ")"));
    } else {
      out += Line("ingress", "unknown (ingress is down)");
    }
    for (const std::string& e : errors) out += Line("error", e);
    ctx.out << out;
  }
  if (!down.empty()) {
    return absl::UnavailableError(
        Cat(down.size(), " of 3 services ", down.size() == 1 ? "is" : "are",
            " down: ", absl::StrJoin(down, ", "), " (start them with deploy/run-local.sh)"));
  }
  if (!not_serving.empty()) {
    return absl::UnavailableError(Cat(absl::StrJoin(not_serving, ", "), " ",
                                      not_serving.size() == 1 ? "is" : "are",
                                      " not serving (see the services and redis lines)"));
  }
  if (!errors.empty()) return absl::UnknownError(errors.front());
  return absl::OkStatus();
}

absl::Status Health(CommandContext& ctx) {
  std::vector<Service> wanted;
  for (const std::string& name : ctx.invocation.args) {
    if (name == "egress") {
      wanted.push_back(Service::kEgress);
    } else if (name == "ingress") {
      wanted.push_back(Service::kIngress);
    } else if (name == "installer") {
      wanted.push_back(Service::kInstaller);
    } else {
      return absl::InvalidArgumentError(
          Cat("health: unknown service \"", name, "\"; use egress, ingress or installer"));
    }
  }
  if (wanted.empty()) wanted = {Service::kEgress, Service::kIngress, Service::kInstaller};
  std::vector<std::string> down;
  for (Service s : wanted) {
    absl::Status health = ctx.clients.CheckHealth(s, kHealthTimeout);
    if (ctx.json()) {
      std::string text;
      json::Writer line(&text);
      line.BeginObject().Key("service").String(ServiceName(s));
      line.Key("address").String(ctx.clients.address(s));
      line.Key("serving").Bool(health.ok()).EndObject();
      ctx.out << text << "\n";
    } else {
      ctx.out << ServiceName(s) << " " << ctx.clients.address(s) << " "
              << (health.ok() ? "SERVING" : Cat("DOWN: ", ToStd(health.message()))) << "\n";
    }
    if (!health.ok()) down.emplace_back(ServiceName(s));
  }
  if (!down.empty()) {
    std::string names;
    for (const std::string& d : down) names += (names.empty() ? "" : ", ") + d;
    return absl::UnavailableError(Cat("not serving: ", names));
  }
  return absl::OkStatus();
}

}  // namespace teleclaude::mesh::telec
