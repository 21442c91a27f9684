// telec events emit | tail.
#include <fnmatch.h>
#include <grpcpp/client_context.h>

#include <memory>
#include <string>

#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "cli/telec/cancel_on_signal.h"
#include "cli/telec/commands.h"
#include "cli/telec/format.h"
#include "cli/telec/input.h"
#include "cli/telec/json_out.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/catalog/event_catalog.h"

namespace teleclaude::mesh::telec {
namespace {

std::string Pad(std::string text, size_t width) {
  size_t w = DisplayWidth(text);
  if (w < width) text.append(width - w, ' ');
  return text;
}

// "12:34:56" in local time, from processed_at (or the event's timestamp).
std::string ClockTime(const v1::WatchedEvent& e) {
  const std::string& text = e.processed_at().empty() ? e.envelope().timestamp() : e.processed_at();
  absl::StatusOr<absl::Time> t = ParseTime(text);
  if (!t.ok()) return Pad(text.substr(0, 8), 8);
  return absl::FormatTime("%H:%M:%S", *t, absl::LocalTimeZone());
}

}  // namespace

// The columns of `events tail` (FormatTailLine pads to the same widths).
std::string TailHeader() {
  std::string line =
      Cat(Pad("TIME", 8), "  ", Pad("TYPE", 28), "  ", Pad("LEVEL", 14), "  ",
          Pad("VISIBILITY", 10), "  ", Pad("SOURCE", 12), "  ", Pad("ORIGIN", 12), "  ", "PAYLOAD");
  return line;
}

// One line of `events tail`: time, type, level, visibility, source, origin,
// payload (abbreviated), and the outcome when it is not "processed".
std::string FormatTailLine(const v1::WatchedEvent& e) {
  const v1::EventEnvelope& env = e.envelope();
  std::string origin(OriginName(e.origin()));
  if (e.origin() == v1::ORIGIN_MESH && !e.source_computer().empty()) {
    origin = Cat("mesh:", e.source_computer());
  }
  std::string line = Cat(ClockTime(e), "  ", Pad(env.event(), 28), "  ",
                         Pad(std::string(LevelName(env.level())), 14), "  ",
                         Pad(std::string(VisibilityName(env.visibility())), 10), "  ",
                         Pad(env.source(), 12), "  ", Pad(origin, 12), "  ",
                         Abbreviate(env.payload_json().empty() ? "{}" : env.payload_json(), 60));
  if (e.status() != v1::OUTCOME_PROCESSED) {
    CatTo(line, "  [", OutcomeName(e.status()));
    if (!e.dropped_by().empty()) CatTo(line, " by ", e.dropped_by());
    CatTo(line, "]");
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

absl::Status EventsEmit(CommandContext& ctx) {
  const Invocation& inv = ctx.invocation;
  v1::EmitRequest request;
  request.set_event(inv.args[0]);
  if (request.event().empty()) {
    return absl::InvalidArgumentError("the event type is empty; e.g. telec events emit my.event");
  }
  if (std::optional<std::string> payload = inv.Get("payload")) {
    TM_ASSIGN_OR_RETURN(std::string text,
                        ReadOptionText("payload", *payload, ctx.config.max_message_bytes));
    TM_ASSIGN_OR_RETURN(std::string canonical, ParseJsonObjectOption("payload", text));
    request.set_payload_json(canonical);
  }
  if (std::optional<std::string> level = inv.Get("level")) {
    TM_ASSIGN_OR_RETURN(v1::EventLevel parsed, ParseLevel("level", *level));
    request.set_level(parsed);
  }
  if (std::optional<std::string> visibility = inv.Get("visibility")) {
    TM_ASSIGN_OR_RETURN(v1::EventVisibility parsed, ParseVisibility("visibility", *visibility));
    request.set_visibility(parsed);
  }
  if (auto v = inv.Get("domain")) request.set_domain(*v);
  if (auto v = inv.Get("entity")) request.set_entity(*v);
  if (auto v = inv.Get("description")) request.set_description(*v);
  if (auto v = inv.Get("idempotency-key")) request.set_idempotency_key(*v);
  if (auto v = inv.Get("source")) request.set_source(*v);

  v1::EmitResponse response;
  auto context = ctx.clients.NewContext();
  grpc::Status status = ctx.clients.egress().Emit(context.get(), request, &response);
  if (!status.ok()) return ctx.clients.Explain(Service::kEgress, status);
  const v1::EventOutcome& outcome = response.outcome();
  if (outcome.status() == v1::OUTCOME_INVALID) {
    return absl::InvalidArgumentError(Cat("egress rejected the event: ", outcome.error()));
  }
  if (ctx.json()) {
    std::string text;
    json::Writer w(&text);
    WriteOutcome(outcome, w);
    ctx.out << text << "\n";
    return absl::OkStatus();
  }
  const v1::EventEnvelope& env = outcome.envelope();
  std::string line = Cat(OutcomeName(outcome.status()), " ", request.event());
  if (outcome.has_envelope()) {
    CatTo(line, " (", LevelName(env.level()), ", ", VisibilityName(env.visibility()));
    if (!env.domain().empty()) CatTo(line, ", domain ", env.domain());
    CatTo(line, ")");
  }
  if (outcome.status() == v1::OUTCOME_DROPPED) {
    CatTo(line, ": dropped by ", outcome.dropped_by().empty() ? "?" : outcome.dropped_by());
  }
  if (outcome.notification_id() != 0) CatTo(line, "; notification ", outcome.notification_id());
  ctx.out << line << "\n";
  return absl::OkStatus();
}

absl::Status EventsTail(CommandContext& ctx) {
  v1::WatchEventsRequest request;
  request.set_type_prefix(ctx.invocation.Get("type").value_or(""));
  request.set_include_meta(ctx.invocation.Switch("include-meta"));
  if (auto v = ctx.invocation.Get("last")) {
    TM_ASSIGN_OR_RETURN(int32_t last, ParseCountOption("last", *v));
    request.set_last(last);
  }
  // A stream's failure shows only at its first Read: ask egress first, so an
  // unreachable egress is the one-line error and not a header and then it.
  // (A NOT_SERVING egress still streams what it processes.)
  if (absl::Status health = ctx.clients.CheckHealth(Service::kEgress, absl::Seconds(2));
      absl::IsUnavailable(health) || absl::IsDeadlineExceeded(health)) {
    return health;
  }
  grpc::ClientContext context;  // no deadline: follows until cancelled
  context.set_wait_for_ready(false);
  CancelOnSignal cancel([&context] { context.TryCancel(); });
  std::unique_ptr<grpc::ClientReader<v1::WatchedEvent>> reader =
      ctx.clients.egress().WatchEvents(&context, request);
  v1::WatchedEvent event;
  const bool as_json = ctx.json();
  if (!as_json) {
    ctx.out << TailHeader() << "\n";
    ctx.out.flush();
  }
  while (reader->Read(&event)) {
    if (as_json) {
      std::string text;
      json::Writer out(&text);
      WriteWatchedEvent(event, out);
      ctx.out << text << "\n";
    } else {
      ctx.out << FormatTailLine(event) << "\n";
    }
    ctx.out.flush();
  }
  grpc::Status status = reader->Finish();
  if (cancel.fired()) return absl::OkStatus();  // Ctrl-C: a clean end
  if (!status.ok()) return ctx.clients.Explain(Service::kEgress, status);
  return absl::UnavailableError(Cat("egress at ", ctx.clients.address(Service::kEgress),
                                    " ended the event stream (was telec-egress stopped?)"));
}

}  // namespace teleclaude::mesh::telec

namespace teleclaude::mesh::telec {
namespace {

// "creates", "updates", "creates, updates", "resolves" or "none".
std::string LifecycleCell(const EventSchema& schema) {
  if (!schema.lifecycle.has_value()) return "none";
  std::vector<std::string> parts;
  if (schema.lifecycle->creates) parts.emplace_back("creates");
  if (schema.lifecycle->updates) parts.emplace_back("updates");
  if (schema.lifecycle->resolves) parts.emplace_back("resolves");
  return parts.empty() ? "none" : absl::StrJoin(parts, ", ");
}

std::string_view LevelOf(const EventSchema& schema) {
  return LevelName(static_cast<v1::EventLevel>(schema.default_level));
}

std::string_view VisibilityOf(const EventSchema& schema) {
  return VisibilityName(static_cast<v1::EventVisibility>(schema.default_visibility));
}

// A glob ("*.crashed", "system.?orker.*") when it has a wildcard, else a
// prefix.
bool TypeMatches(const std::string& pattern, const std::string& type) {
  if (pattern.find_first_of("*?[") == std::string::npos) return type.starts_with(pattern);
  return fnmatch(pattern.c_str(), type.c_str(), 0) == 0;
}

}  // namespace

absl::Status EventsTypes(CommandContext& ctx) {
  const std::string pattern = ctx.invocation.args.empty() ? "" : ctx.invocation.args[0];
  const EventCatalog catalog = BuildDefaultCatalog();
  std::vector<const EventSchema*> schemas;
  for (const EventSchema* schema : catalog.ListAll()) {
    if (TypeMatches(pattern, schema->event_type)) schemas.push_back(schema);
  }
  if (ctx.json()) {
    std::string text;
    json::Writer w(&text);
    w.BeginArray();
    for (const EventSchema* schema : schemas) {
      w.BeginObject();
      w.Key("event_type").String(schema->event_type);
      w.Key("description").String(schema->description);
      w.Key("level").String(LevelOf(*schema));
      w.Key("domain").String(schema->domain);
      w.Key("visibility").String(VisibilityOf(*schema));
      w.Key("lifecycle").String(LifecycleCell(*schema));
      w.Key("creates_notification")
          .Bool(schema->lifecycle.has_value() && schema->lifecycle->creates);
      w.Key("actionable").Bool(schema->actionable);
      w.Key("idempotency_fields").BeginArray();
      for (const std::string& f : schema->idempotency_fields) w.String(f);
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    ctx.out << text << "\n";
    return absl::OkStatus();
  }
  if (schemas.empty()) {
    return absl::NotFoundError(Cat("no event type matches \"", pattern,
                                   "\"; run 'telec events types' for the whole catalog"));
  }
  Table table({"TYPE", "LEVEL", "VISIBILITY", "LIFECYCLE", "ACTIONABLE", "DESCRIPTION"});
  for (const EventSchema* schema : schemas) {
    table.AddRow({schema->event_type, std::string(LevelOf(*schema)),
                  std::string(VisibilityOf(*schema)), LifecycleCell(*schema),
                  schema->actionable ? "yes" : "no", Abbreviate(schema->description, 60)});
  }
  ctx.out << table.Render();
  return absl::OkStatus();
}

}  // namespace teleclaude::mesh::telec
