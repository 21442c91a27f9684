// telec ingress quarantined: the events ingress' trust gate held back
// (Ingress.ListQuarantined; doc/ingress.md "ingress.db").
#include <string>

#include "absl/strings/str_join.h"
#include "cli/telec/commands.h"
#include "cli/telec/format.h"
#include "cli/telec/input.h"
#include "cli/telec/json_out.h"
#include "common/base/status_macros.h"
#include "common/mesh/peer_name.h"

namespace teleclaude::mesh::telec {

absl::Status IngressQuarantined(CommandContext& ctx) {
  v1::ListQuarantinedRequest request;
  TM_ASSIGN_OR_RETURN(Page page, ParsePage(ctx.invocation));
  request.set_limit(page.limit);
  request.set_offset(page.offset);
  v1::ListQuarantinedResponse response;
  auto context = ctx.clients.NewContext();
  grpc::Status status = ctx.clients.ingress().ListQuarantined(context.get(), request, &response);
  if (!status.ok()) return ctx.clients.Explain(Service::kIngress, status);
  if (ctx.json()) {
    std::string text;
    json::Writer w(&text);
    w.BeginArray();
    for (const v1::QuarantinedEvent& e : response.events()) WriteQuarantinedEvent(e, w);
    w.EndArray();
    ctx.out << text << "\n";
    return absl::OkStatus();
  }
  if (response.events().empty()) {
    ctx.out << "no quarantined events\n";
    return absl::OkStatus();
  }
  Table table({"ID", "RECEIVED", "TYPE", "SOURCE", "FLAGS", "REVIEWED"});
  for (const v1::QuarantinedEvent& e : response.events()) {
    // Type and source come from another computer: shown quoted and escaped
    // unless plain (DisplayPeerName), and cut to a column's width.
    table.AddRow({std::to_string(e.id()), RelativeTimestamp(e.received_at(), ctx.now, "-"),
                  Abbreviate(DisplayPeerName(e.event_type()), 48),
                  Abbreviate(DisplayPeerName(e.source()), 32),
                  e.trust_flags().empty() ? "-" : absl::StrJoin(e.trust_flags(), ","),
                  e.reviewed() ? "yes" : "no"});
  }
  ctx.out << table.Render();
  return absl::OkStatus();
}

}  // namespace teleclaude::mesh::telec
