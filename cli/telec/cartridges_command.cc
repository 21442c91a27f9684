// telec cartridges list | show | activate | reject | deactivate | remove | publish.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/telec/commands.h"
#include "cli/telec/format.h"
#include "cli/telec/input.h"
#include "cli/telec/json_out.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/cartridge/runtime.h"
#include "common/cartridge/system_cartridges.h"

namespace teleclaude::mesh::telec {
namespace {

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

// Whether the author's signature of a registered cartridge did not verify
// (system cartridges and files without a row have none to check).
bool Unverified(const v1::Cartridge& c) {
  return !c.signature().empty() && c.signature() != "verified";
}

// Active cartridges egress cannot run now -> why (a Python cartridge while
// its sandbox runner is down: doc/cartridges.md). Empty when egress is down
// or runs them all.
std::map<std::string, std::string> UnavailableCartridges(CommandContext& ctx) {
  std::map<std::string, std::string> out;
  v1::StatsResponse stats;
  auto context = ctx.clients.NewContext();
  if (!ctx.clients.egress().Stats(context.get(), v1::StatsRequest(), &stats).ok()) return out;
  for (const v1::CartridgeCounters& c : stats.cartridges()) {
    if (!c.unavailable().empty()) out[c.name()] = c.unavailable();
  }
  return out;
}

std::string Lookup(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

std::string StatusCell(const v1::Cartridge& c, std::string_view unavailable = {}) {
  std::string status(CartridgeStatusName(c.status()));
  if (c.unregistered_file()) CatTo(status, " (file only)");
  if (!unavailable.empty() && c.status() == v1::CARTRIDGE_STATUS_ACTIVE) {
    CatTo(status, " (not running)");
  }
  if (Unverified(c)) CatTo(status, " UNVERIFIED");
  return status;
}

void PrintCartridgeJson(CommandContext& ctx, const v1::Cartridge& c, bool with_source,
                        std::string_view unavailable = {}) {
  std::string text;
  json::Writer w(&text);
  WriteCartridge(c, with_source, w, unavailable);
  ctx.out << text << "\n";
}

// One line for activate / reject.
std::string Describe(const v1::Cartridge& c) {
  std::string out = Cat("cartridge ", c.name());
  if (!c.version().empty()) CatTo(out, " ", c.version());
  if (!c.author().empty()) CatTo(out, " by ", c.author());
  return out;
}

}  // namespace

absl::Status CartridgesList(CommandContext& ctx) {
  v1::ListCartridgesResponse response;
  auto context = ctx.clients.NewContext();
  grpc::Status status =
      ctx.clients.installer().ListCartridges(context.get(), v1::ListCartridgesRequest(), &response);
  if (!status.ok()) return ctx.clients.Explain(Service::kInstaller, status);
  const std::map<std::string, std::string> unavailable = UnavailableCartridges(ctx);
  if (ctx.json()) {
    std::string text;
    json::Writer w(&text);
    w.BeginArray();
    for (const v1::Cartridge& c : response.cartridges()) {
      WriteCartridge(c, false, w, Lookup(unavailable, c.name()));
    }
    w.EndArray();
    ctx.out << text << "\n";
    return absl::OkStatus();
  }
  if (response.cartridges().empty()) {
    ctx.out << "no cartridges\n";
    return absl::OkStatus();
  }
  Table table({"NAME", "STATUS", "VERSION", "AUTHOR", "INVOCATIONS", "LAST INVOKED"});
  for (const v1::Cartridge& c : response.cartridges()) {
    table.AddRow({c.name(), StatusCell(c, Lookup(unavailable, c.name())), OrDash(c.version()),
                  OrDash(c.author()), Count(c.invocation_count()),
                  RelativeTimestamp(c.last_invoked_at(), ctx.now, "never")});
  }
  ctx.out << table.Render();
  for (const auto& [name, why] : unavailable) ctx.out << name << " not running: " << why << "\n";
  return absl::OkStatus();
}

absl::Status CartridgesShow(CommandContext& ctx) {
  v1::GetCartridgeRequest request;
  request.set_name(ctx.invocation.args[0]);
  v1::Cartridge c;
  auto context = ctx.clients.NewContext();
  grpc::Status status = ctx.clients.installer().GetCartridge(context.get(), request, &c);
  if (!status.ok()) return ctx.clients.Explain(Service::kInstaller, status);
  const std::string unavailable = Lookup(UnavailableCartridges(ctx), c.name());
  if (ctx.json()) {
    PrintCartridgeJson(ctx, c, true, unavailable);
    return absl::OkStatus();
  }
  Table fields({"", ""});
  auto row = [&](std::string key, std::string value) {
    fields.AddRow({std::move(key), std::move(value)});
  };
  row("name:", c.name());
  row("status:", StatusCell(c, unavailable));
  if (!unavailable.empty()) row("not running:", unavailable);
  row("version:", OrDash(c.version()));
  row("author:", OrDash(c.author()));
  if (!c.signature().empty()) {
    row("signature:", Cat(Unverified(c) ? "UNVERIFIED, " : "", c.signature(),
                          c.signature_message().empty() ? "" : ": ", c.signature_message()));
  }
  if (!c.author_fingerprint().empty()) row("author key:", c.author_fingerprint());
  row("event type:", c.event_type().empty() ? "(any)" : c.event_type());
  row("runtime:", Cat(OrDash(c.runtime()),
                      c.entry_point().empty() ? "" : Cat(", entry point ", c.entry_point())));
  row("dependencies:", c.dependencies().empty() ? "-" : absl::StrJoin(c.dependencies(), ", "));
  row("description:", OrDash(c.description()));
  row("published by:", OrDash(c.source_computer()));
  if (!c.decided_by().empty() || !c.decided_at().empty()) {
    std::string decided = Cat("by ", OrDash(c.decided_by()));
    if (!c.decided_at().empty()) {
      CatTo(decided, ", ", RelativeTimestamp(c.decided_at(), ctx.now));
    }
    row("decided:", decided);
  }
  if (!c.reason().empty()) row("reason:", c.reason());
  row("invocations:", Cat(Count(c.invocation_count()), ", last ",
                          RelativeTimestamp(c.last_invoked_at(), ctx.now, "never")));
  if (!c.created_at().empty()) row("created:", RelativeTimestamp(c.created_at(), ctx.now));
  if (!c.notification_ids().empty()) {
    row("notifications:", absl::StrJoin(c.notification_ids(), ", "));
  }
  row("sha256:", OrDash(c.sha256()));
  std::string text = fields.Render();
  // The header row of a two-column table without titles is blank.
  text.erase(0, text.find('\n') + 1);
  ctx.out << text;
  if (c.source().empty()) {
    ctx.out << "source: (not available)\n";
  } else {
    ctx.out << "source:\n" << c.source();
    if (c.source().back() != '\n') ctx.out << "\n";
  }
  return absl::OkStatus();
}

namespace {

// What a human decision on a cartridge answers: the cartridge as JSON, or
// "<verb> <cartridge><note>".
void PrintDecision(CommandContext& ctx, const v1::Cartridge& c, std::string_view verb,
                   std::string_view note = "") {
  if (ctx.json()) {
    PrintCartridgeJson(ctx, c, false);
  } else {
    ctx.out << verb << " " << Describe(c) << note << "\n";
  }
}

}  // namespace

absl::Status CartridgesActivate(CommandContext& ctx) {
  v1::ActivateRequest request;
  request.set_name(ctx.invocation.args[0]);
  request.set_decided_by("human");
  v1::Cartridge c;
  auto context = ctx.clients.NewContext();
  grpc::Status status = ctx.clients.installer().Activate(context.get(), request, &c);
  if (!status.ok()) return ctx.clients.Explain(Service::kInstaller, status);
  PrintDecision(ctx, c, "activated");
  return absl::OkStatus();
}

absl::Status CartridgesReject(CommandContext& ctx) {
  v1::RejectRequest request;
  request.set_name(ctx.invocation.args[0]);
  request.set_decided_by("human");
  request.set_reason(ctx.invocation.Get("reason").value_or(""));
  v1::Cartridge c;
  auto context = ctx.clients.NewContext();
  grpc::Status status = ctx.clients.installer().Reject(context.get(), request, &c);
  if (!status.ok()) return ctx.clients.Explain(Service::kInstaller, status);
  PrintDecision(ctx, c, "rejected");
  return absl::OkStatus();
}

absl::Status CartridgesDeactivate(CommandContext& ctx) {
  v1::DeactivateRequest request;
  request.set_name(ctx.invocation.args[0]);
  request.set_decided_by("human");
  request.set_reason(ctx.invocation.Get("reason").value_or(""));
  v1::Cartridge c;
  auto context = ctx.clients.NewContext();
  grpc::Status status = ctx.clients.installer().Deactivate(context.get(), request, &c);
  if (!status.ok()) return ctx.clients.Explain(Service::kInstaller, status);
  PrintDecision(
      ctx, c, "deactivated",
      absl::StrCat(" (inactive; 'telec cartridges activate ", c.name(), "' turns it on again)"));
  return absl::OkStatus();
}

absl::Status CartridgesRemove(CommandContext& ctx) {
  v1::RemoveRequest request;
  request.set_name(ctx.invocation.args[0]);
  request.set_decided_by("human");
  request.set_reason(ctx.invocation.Get("reason").value_or(""));
  v1::RemoveResponse response;
  auto context = ctx.clients.NewContext();
  grpc::Status status = ctx.clients.installer().Remove(context.get(), request, &response);
  if (!status.ok()) return ctx.clients.Explain(Service::kInstaller, status);
  if (ctx.json()) {
    std::string text;
    json::Writer w(&text);
    w.BeginArray();
    for (const v1::Cartridge& c : response.removed()) WriteCartridge(c, false, w);
    w.EndArray();
    ctx.out << text << "\n";
    return absl::OkStatus();
  }
  std::vector<std::string> versions;
  for (const v1::Cartridge& c : response.removed()) {
    versions.push_back(Cat(OrDash(c.version()), " (", CartridgeStatusName(c.status()), ")"));
  }
  ctx.out << "removed cartridge " << request.name() << ": " << absl::StrJoin(versions, ", ")
          << "\n";
  return absl::OkStatus();
}

absl::Status CartridgesPublish(CommandContext& ctx) {
  const Invocation& inv = ctx.invocation;
  PublishRequest request;
  std::optional<std::string> name = inv.Get("name");
  if (!name) {
    return absl::InvalidArgumentError("--name is required; e.g. --name=my-filter");
  }
  TM_RETURN_IF_ERROR(ValidateCartridgeName(*name));
  request.name = *name;
  request.version = inv.Get("version").value_or("");
  if (request.version.empty()) {
    return absl::InvalidArgumentError("--version is required; e.g. --version=1.0.0");
  }
  request.event_type = inv.Get("event-type").value_or("");
  request.runtime = inv.Get("runtime").value_or(std::string(kLuaRuntime));
  if (request.runtime.empty()) {
    return absl::InvalidArgumentError("--runtime is empty; e.g. --runtime=lua");
  }
  request.entry_point = inv.Get("entry-point").value_or("process");
  request.description = inv.Get("description").value_or("");
  if (std::optional<std::string> deps = inv.Get("dependencies")) {
    for (absl::string_view d : absl::StrSplit(*deps, ',', absl::SkipWhitespace())) {
      request.dependencies.emplace_back(d);
    }
  }
  TM_ASSIGN_OR_RETURN(request.source,
                      ReadCartridgeFile(inv.args[0], ctx.config.max_cartridge_bytes));

  // The author is this computer as the mesh knows it: ask egress.
  v1::StatsResponse stats;
  {
    auto context = ctx.clients.NewContext();
    grpc::Status status = ctx.clients.egress().Stats(context.get(), v1::StatsRequest(), &stats);
    if (!status.ok()) return ctx.clients.Explain(Service::kEgress, status);
  }
  request.author = stats.computer_name().empty() ? ctx.config.computer_name : stats.computer_name();

  // The installer signs it with this computer's identity key, so a receiver
  // can tell who wrote it however it travels (doc/security.md §10.5).
  v1::SignCartridgeRequest sign;
  sign.set_payload_json(BuildPublishPayload(request));
  v1::SignCartridgeResponse signed_payload;
  {
    auto context = ctx.clients.NewContext();
    grpc::Status status =
        ctx.clients.installer().SignCartridge(context.get(), sign, &signed_payload);
    if (!status.ok()) return ctx.clients.Explain(Service::kInstaller, status);
  }

  v1::EmitRequest emit;
  emit.set_event("cartridge.published");
  emit.set_payload_json(signed_payload.payload_json());
  emit.set_visibility(v1::EVENT_VISIBILITY_PUBLIC);
  emit.set_description(
      Cat("cartridge ", request.name, " ", request.version, " published by ", request.author));
  emit.set_entity(Cat("cartridge:", request.name));
  v1::EmitResponse response;
  auto context = ctx.clients.NewContext();
  grpc::Status status = ctx.clients.egress().Emit(context.get(), emit, &response);
  if (!status.ok()) return ctx.clients.Explain(Service::kEgress, status);
  const v1::EventOutcome& outcome = response.outcome();
  if (ctx.json()) {
    std::string text;
    json::Writer w(&text);
    WriteOutcome(outcome, w);
    ctx.out << text << "\n";
  }
  switch (outcome.status()) {
    case v1::OUTCOME_PROCESSED:
      if (!ctx.json()) {
        ctx.out << "published cartridge " << request.name << " " << request.version << " by "
                << request.author << " (" << request.source.size()
                << " bytes, cartridge.published, public, signed with key "
                << signed_payload.author_fingerprint() << ")";
        if (outcome.notification_id() != 0) {
          ctx.out << ", notification " << outcome.notification_id();
        }
        ctx.out << "\n";
      }
      return absl::OkStatus();
    case v1::OUTCOME_DROPPED:
      return absl::AlreadyExistsError(
          Cat("not published: ",
              outcome.dropped_by() == kDedupCartridge
                  ? Cat("cartridge ", request.name, " ", request.version, " by ", request.author,
                        " was already published; publish a new --version")
                  : Cat("dropped by cartridge ", outcome.dropped_by())));
    case v1::OUTCOME_DUPLICATE:
      return absl::AlreadyExistsError("not published: egress saw this event already");
    case v1::OUTCOME_INVALID:
    default:
      return absl::InvalidArgumentError(Cat("egress rejected the event: ", outcome.error()));
  }
}

}  // namespace teleclaude::mesh::telec
