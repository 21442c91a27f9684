#include "services/egress/control/egress_metrics.h"

#include "common/grpc/metrics_endpoint.h"
#include "glog/logging.h"

namespace teleclaude::mesh {

std::vector<prometheus::MetricFamily> EgressMetrics::Collect() const {
  absl::StatusOr<v1::StatsResponse> stats = service_->StatsNow(absl::Seconds(2));
  if (!stats.ok()) {
    LOG_EVERY_N(WARNING, 10) << "metrics: " << stats.status();
    return {};
  }
  const v1::StatsResponse& s = *stats;
  MetricFamilies f;
  f.Counter("teleclaude_egress_inputs_processed_total",
            "Events run through the pipeline (local stream, Submit, Emit)", s.inputs_processed());
  f.Counter("teleclaude_egress_inputs_duplicate_total",
            "Inputs already processed before (no second effect)", s.inputs_duplicate());
  f.Counter("teleclaude_egress_inputs_invalid_total", "Inputs refused as invalid",
            s.inputs_invalid());
  f.Gauge("teleclaude_egress_local_stream_lag",
          "Entries of the local stream not yet read by egress (-1: unknown)", s.local_stream_lag());
  const char* depth_help =
      "Rows waiting in an outbox: mesh deliveries, installer pushes, "
      "invocation counts not yet sent";
  f.Gauge("teleclaude_egress_outbox_depth", depth_help, s.outbox_depth(), {{"outbox", "mesh"}});
  f.Gauge("teleclaude_egress_outbox_depth", depth_help, s.pushes_unsent(), {{"outbox", "push"}});
  f.Gauge("teleclaude_egress_outbox_depth", depth_help, s.invocations_unsent(),
          {{"outbox", "invocations"}});
  f.Counter("teleclaude_egress_outbox_dropped_total",
            "Undelivered mesh messages dropped because the outbox was full (--outbox_max)",
            s.outbox_dropped());
  f.Counter("teleclaude_egress_input_holds_total",
            "Worker rounds that took no new input while the mesh outbox drained (back-pressure)",
            s.input_holds());
  f.Counter("teleclaude_egress_wal_checkpoints_total", "WAL checkpoints of events.db",
            s.wal_checkpoints());
  for (const auto& [peer, n] : s.forwarded_per_peer()) {
    f.Counter("teleclaude_egress_forwarded_total", "Mesh messages delivered to each peer", n,
              {{"peer", peer}});
  }
  for (const v1::CartridgeCounters& c : s.cartridges()) {
    f.Counter("teleclaude_egress_cartridge_invocations_total",
              "Successful runs of each cartridge since egress started", c.invocations(),
              {{"cartridge", c.name()}});
    f.Counter("teleclaude_egress_cartridge_failures_total",
              "Failed runs of each cartridge (error, limit, invalid result)", c.failures(),
              {{"cartridge", c.name()}});
    f.Counter("teleclaude_egress_cartridge_dropped_total", "Events each cartridge dropped",
              c.dropped(), {{"cartridge", c.name()}});
    f.Gauge("teleclaude_egress_cartridge_suspended", "1 while a cartridge is suspended",
            c.suspended() ? 1 : 0, {{"cartridge", c.name()}});
  }
  return f.Take();
}

}  // namespace teleclaude::mesh
