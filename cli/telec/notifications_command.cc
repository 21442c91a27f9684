// telec notifications list | show | seen | resolve.
#include <string>

#include "cli/telec/commands.h"
#include "cli/telec/format.h"
#include "cli/telec/input.h"
#include "cli/telec/json_out.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/json/json_text.h"

namespace teleclaude::mesh::telec {
namespace {

std::string StateCell(const v1::Notification& n) {
  std::string state(HumanStatusName(n.human_status()));
  if (n.agent_status() == v1::AGENT_STATUS_CLAIMED ||
      n.agent_status() == v1::AGENT_STATUS_RESOLVED) {
    CatTo(state, ", ", AgentStatusName(n.agent_status()));
  }
  return state;
}

// "local", or the computer the event came from over the mesh (ingress
// stamps payload._mesh_source, DESIGN §3.3).
std::string SourceCell(const v1::Notification& n) {
  std::optional<std::string> from =
      json::GetMemberString(n.payload_json().empty() ? "{}" : n.payload_json(), "_mesh_source");
  return from.has_value() && !from->empty() ? Abbreviate(*from, 24) : "local";
}

void PrintNotification(CommandContext& ctx, const v1::Notification& n) {
  std::string text;
  json::Writer w(&text);
  WriteNotification(n, w);
  ctx.out << text << "\n";
}

}  // namespace

absl::Status NotificationsList(CommandContext& ctx) {
  const Invocation& inv = ctx.invocation;
  v1::ListNotificationsRequest request;
  if (auto v = inv.Get("level")) {
    TM_ASSIGN_OR_RETURN(v1::EventLevel level, ParseLevel("level", *v));
    request.set_min_level(level);
  }
  if (auto v = inv.Get("domain")) request.set_domain(*v);
  if (inv.Switch("unseen") && inv.Switch("seen")) {
    return absl::InvalidArgumentError("--seen and --unseen exclude each other; give one");
  }
  if (inv.Switch("unseen")) request.set_human_status(v1::HUMAN_STATUS_UNSEEN);
  if (inv.Switch("seen")) request.set_human_status(v1::HUMAN_STATUS_SEEN);
  if (auto v = inv.Get("agent-status")) {
    if (*v == "none") {
      request.set_agent_status(v1::AGENT_STATUS_NONE);
    } else if (*v == "claimed") {
      request.set_agent_status(v1::AGENT_STATUS_CLAIMED);
    } else if (*v == "resolved") {
      request.set_agent_status(v1::AGENT_STATUS_RESOLVED);
    } else {
      return absl::InvalidArgumentError(Cat(
          "--agent-status: \"", *v, "\" is not an agent status; use none, claimed or resolved"));
    }
  }
  if (auto v = inv.Get("visibility")) {
    TM_ASSIGN_OR_RETURN(v1::EventVisibility visibility, ParseVisibility("visibility", *v));
    request.set_visibility(visibility);
  }
  if (auto v = inv.Get("since")) {
    if (absl::StatusOr<absl::Time> t = ParseTime(*v); !t.ok()) {
      return absl::InvalidArgumentError(Cat("--since: \"", *v, "\" is not a time (",
                                            ToStd(t.status().message()),
                                            "); use ISO 8601, e.g. 2025-03-01T12:00:00Z"));
    }
    request.set_since(*v);
  }
  if (auto v = inv.Get("type")) request.set_event_type_prefix(*v);
  TM_ASSIGN_OR_RETURN(Page page, ParsePage(inv));
  request.set_limit(page.limit);
  request.set_offset(page.offset);
  v1::ListNotificationsResponse response;
  auto context = ctx.clients.NewContext();
  grpc::Status status = ctx.clients.egress().ListNotifications(context.get(), request, &response);
  if (!status.ok()) return ctx.clients.Explain(Service::kEgress, status);
  if (ctx.json()) {
    std::string text;
    json::Writer w(&text);
    w.BeginArray();
    for (const v1::Notification& n : response.notifications()) WriteNotification(n, w);
    w.EndArray();
    ctx.out << text << "\n";
    return absl::OkStatus();
  }
  if (response.notifications().empty()) {
    ctx.out << "no notifications\n";
    return absl::OkStatus();
  }
  Table table({"ID", "CREATED", "LEVEL", "TYPE", "SOURCE", "ENTITY", "STATE", "DESCRIPTION"});
  for (const v1::Notification& n : response.notifications()) {
    table.AddRow({Cat(n.id()), RelativeTimestamp(n.created_at(), ctx.now, "-"),
                  std::string(LevelName(n.level())), n.event_type(), SourceCell(n),
                  n.has_entity() && !n.entity().empty() ? n.entity() : "-", StateCell(n),
                  Abbreviate(n.description().empty() ? "-" : n.description(), 50)});
  }
  ctx.out << table.Render();
  return absl::OkStatus();
}

absl::Status NotificationsShow(CommandContext& ctx) {
  v1::GetNotificationRequest request;
  TM_ASSIGN_OR_RETURN(int64_t id, ParseNotificationId(ctx.invocation.args[0]));
  request.set_id(id);
  v1::Notification n;
  auto context = ctx.clients.NewContext();
  grpc::Status status = ctx.clients.egress().GetNotification(context.get(), request, &n);
  if (!status.ok()) return ctx.clients.Explain(Service::kEgress, status);
  if (ctx.json()) {
    PrintNotification(ctx, n);
    return absl::OkStatus();
  }
  Table fields({"", ""});
  auto row = [&](std::string key, std::string value) {
    fields.AddRow({std::move(key), std::move(value)});
  };
  row("id:", Cat(n.id()));
  row("type:", Cat(n.event_type(), n.actionable() ? " (actionable)" : ""));
  row("level:", std::string(LevelName(n.level())));
  row("visibility:", std::string(VisibilityName(n.visibility())));
  row("source:",
      Cat(n.source(),
          SourceCell(n) == "local" ? "" : Cat(" (from ", SourceCell(n), " over the mesh)")));
  row("domain:", n.domain().empty() ? "-" : n.domain());
  row("entity:", n.has_entity() && !n.entity().empty() ? n.entity() : "-");
  row("description:", n.description().empty() ? "-" : n.description());
  row("state:", StateCell(n));
  row("created:", Cat(RelativeTimestamp(n.created_at(), ctx.now, "-"), " (", n.created_at(), ")"));
  if (n.updated_at() != n.created_at()) {
    row("updated:", RelativeTimestamp(n.updated_at(), ctx.now, "-"));
  }
  if (n.has_seen_at()) row("seen:", RelativeTimestamp(n.seen_at(), ctx.now, "-"));
  if (n.has_agent_id()) row("agent:", n.agent_id());
  if (n.has_claimed_at()) row("claimed:", RelativeTimestamp(n.claimed_at(), ctx.now, "-"));
  if (n.has_resolved_at()) row("resolved:", RelativeTimestamp(n.resolved_at(), ctx.now, "-"));
  if (n.has_resolution_json()) row("resolution:", n.resolution_json());
  if (n.has_idempotency_key()) row("idempotency key:", n.idempotency_key());
  row("payload:", n.payload_json().empty() ? "{}" : n.payload_json());
  std::string text = fields.Render();
  text.erase(0, text.find('\n') + 1);
  ctx.out << text;
  return absl::OkStatus();
}

absl::Status NotificationsSeen(CommandContext& ctx) {
  v1::MarkSeenRequest request;
  TM_ASSIGN_OR_RETURN(int64_t id, ParseNotificationId(ctx.invocation.args[0]));
  request.set_id(id);
  v1::Notification n;
  auto context = ctx.clients.NewContext();
  grpc::Status status = ctx.clients.egress().MarkSeen(context.get(), request, &n);
  if (!status.ok()) return ctx.clients.Explain(Service::kEgress, status);
  if (ctx.json()) {
    PrintNotification(ctx, n);
  } else {
    ctx.out << "marked notification " << n.id() << " (" << n.event_type() << ") as seen\n";
  }
  return absl::OkStatus();
}

absl::Status NotificationsResolve(CommandContext& ctx) {
  v1::ResolveNotificationRequest request;
  TM_ASSIGN_OR_RETURN(int64_t id, ParseNotificationId(ctx.invocation.args[0]));
  request.set_id(id);
  if (auto v = ctx.invocation.Get("resolution")) {
    TM_ASSIGN_OR_RETURN(std::string text,
                        ReadOptionText("resolution", *v, ctx.config.max_message_bytes));
    TM_ASSIGN_OR_RETURN(std::string canonical, ParseJsonObjectOption("resolution", text));
    request.set_resolution_json(canonical);
  }
  request.set_force(ctx.invocation.Switch("force"));
  v1::Notification n;
  auto context = ctx.clients.NewContext();
  grpc::Status status = ctx.clients.egress().ResolveNotification(context.get(), request, &n);
  if (!status.ok()) return ctx.clients.Explain(Service::kEgress, status);
  if (ctx.json()) {
    PrintNotification(ctx, n);
  } else {
    ctx.out << "resolved notification " << n.id() << " (" << n.event_type() << ")";
    if (n.has_resolution_json() && n.resolution_json() != "{}") {
      ctx.out << ": " << n.resolution_json();
    }
    ctx.out << "\n";
  }
  return absl::OkStatus();
}

}  // namespace teleclaude::mesh::telec
