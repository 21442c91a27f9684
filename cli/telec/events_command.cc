// telec events emit | tail.
#include <grpcpp/client_context.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "cli/telec/cancel_on_signal.h"
#include "cli/telec/commands.h"
#include "cli/telec/format.h"
#include "cli/telec/input.h"
#include "cli/telec/json_out.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"

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
                         Pad(std::string(VisibilityName(env.visibility())), 7), "  ",
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
    TM_ASSIGN_OR_RETURN(std::string canonical, ParseJsonObjectOption("payload", *payload));
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
  grpc::ClientContext context;  // no deadline: follows until cancelled
  context.set_wait_for_ready(false);
  CancelOnSignal cancel([&context] { context.TryCancel(); });
  std::unique_ptr<grpc::ClientReader<v1::WatchedEvent>> reader =
      ctx.clients.egress().WatchEvents(&context, request);
  v1::WatchedEvent event;
  const bool as_json = ctx.json();
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
