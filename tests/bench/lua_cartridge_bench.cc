// lua_cartridge_bench: Google Benchmark of LuaCartridge::Process, the whole
// per-event cost of a Lua cartridge in the pipeline (the event to a Lua
// table, the script, the table back to an envelope), on a ~600-byte event,
// for a few ordinary cartridges. Run against the sandbox before and after a
// change to see what the change costs a normal cartridge (issue 18: the
// charges, the watchdog's bookkeeping and the end-of-run clock check).
//
//   lua_cartridge_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "benchmark/benchmark.h"
#include "common/envelope/json_codec.h"
#include "services/egress/lua/lua_cartridge.h"

namespace teleclaude::mesh::bench {
namespace {

constexpr char kEvent[] = R"({
  "event": "build.finished", "version": 1, "source": "alpha",
  "timestamp": "2025-03-01T12:34:56.789012Z", "idempotency_key": "build-4711",
  "level": 2, "domain": "ci", "entity": "job/4711",
  "description": "build 4711 of teleclaude-mesh finished with status failed",
  "visibility": "cluster",
  "payload": {"job": 4711, "status": "failed", "branch": "main", "commit": "d26201bf3a9c",
              "duration_ms": 93412, "steps": ["configure", "build", "test", "lint"],
              "failed_step": "test", "runner": {"name": "ci-2", "cores": 2, "load": 1.75},
              "tests": {"passed": 412, "failed": 3, "skipped": 7}}
})";

// README "Lua cartridges": tag-failures.
constexpr char kTagFailures[] = R"(
  local seen = 0
  function process(event)
    if event.event ~= "build.finished" then return event end
    seen = seen + 1
    local p = event.payload
    p.tagged_by = "tag-failures"
    p.builds_seen = seen
    if p.status == "failed" then
      event.level = 3
      emit{event = "build.failure_noticed", level = 2, visibility = "local",
           domain = event.domain, description = "build " .. tostring(p.job) .. " failed",
           payload = {job = p.job, attempts = {1, 2}, note = json.null}}
    end
    return event
  end)";

constexpr char kIdentity[] = "function process(e) return e end";

// String and table library calls a cartridge typically makes.
constexpr char kLibraries[] = R"lua(
  function process(e)
    local words = {}
    for w in e.description:gmatch("%a+") do words[#words + 1] = w:lower() end
    table.sort(words)
    e.payload.words = table.concat(words, ",")
    e.payload.label = string.format("%s #%d (%.1f s)", e.event:upper(), e.payload.job,
                                    e.payload.duration_ms / 1000)
    e.payload.short = e.payload.commit:sub(1, 7) .. ("-"):rep(3) .. utf8.char(0x2713)
    table.insert(e.payload.steps, 1, "checkout")
    local n = 0
    for _, step in ipairs(e.payload.steps) do n = n + #step end
    e.payload.step_chars = math.max(n, 1)
    return e
  end)lua";

void BM_Process(benchmark::State& state, const char* source) {
  LuaCartridgeSpec spec;
  spec.name = "bench";
  spec.source = source;
  absl::StatusOr<std::unique_ptr<Cartridge>> cartridge = LoadLuaCartridge(spec);
  absl::StatusOr<EventEnvelope> event = DecodeEnvelopeJson(kEvent);
  if (!cartridge.ok() || !event.ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  for (auto _ : state) {
    EventEnvelope copy = *event;
    CartridgeContext context;
    absl::StatusOr<Cartridge::Verdict> verdict = (*cartridge)->Process(copy, context);
    if (!verdict.ok()) {
      state.SkipWithError(std::string(verdict.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(copy);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(BM_Process, identity, kIdentity);
BENCHMARK_CAPTURE(BM_Process, tag_failures, kTagFailures);
BENCHMARK_CAPTURE(BM_Process, libraries, kLibraries);

}  // namespace
}  // namespace teleclaude::mesh::bench

BENCHMARK_MAIN();
