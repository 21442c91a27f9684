// lua_pattern_bench: Google Benchmark of string.find / match / gmatch / gsub
// on a ~600-byte JSON-like string, in a LuaSandbox with Lua's own pattern
// functions (`lua`, what cartridges had before lua_pattern.h) and with the
// metered ones (`metered`, what they have now). One benchmark iteration is
// one Run() of a Lua loop of 1000 calls; items are calls.
//
//   lua_pattern_bench --benchmark_filter=find
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "benchmark/benchmark.h"
#include "common/base/strings.h"
#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "services/egress/lua/lua_sandbox.h"

namespace teleclaude::mesh::bench {
namespace {

constexpr int kCallsPerRun = 1000;

constexpr char kSetup[] = R"lua(
  local fields = {}
  for i = 1, 18 do fields[#fields + 1] = string.format('"field_%02d":"value %d"', i, i * 7) end
  S = '{"event":"build.finished","source":"alpha","level":2,"payload":{"job":4711,' ..
      '"status":"failed",' .. table.concat(fields, ",") .. '}}'
  OPS = {
    find = function() return S:find('"status":"(%a+)"') end,
    find_plain = function() return S:find('"status"', 1, true) end,
    match = function() return S:match('"job":(%d+)') end,
    gmatch = function() local n = 0 for k, v in S:gmatch('"([%w_]+)":"([^"]*)"') do n = n + 1 end return n end,
    gsub = function() return S:gsub('"([%w_]+)":', '%1=') end,
    gsub_function = function() return S:gsub('%d+', function(d) return #d end) end,
  }
  function RUN(name, calls)
    local op = OPS[name]
    for i = 1, calls do op() end
  end
  return #S
)lua";

std::unique_ptr<LuaSandbox> MakeSandbox(bool metered) {
  LuaLimits limits;
  limits.instructions = int64_t{1} << 50;
  limits.wall_time = absl::Seconds(3600);
  std::unique_ptr<LuaSandbox> sandbox = std::move(LuaSandbox::Create("bench", limits).value());
  absl::Status status = sandbox->Run([&](lua_State* state) {
    if (!metered) {  // put Lua's own functions back
      luaL_requiref(state, "own_string", luaopen_string, 0);
      lua_getglobal(state, LUA_STRLIBNAME);
      for (const char* name : {"find", "match", "gmatch", "gsub"}) {
        lua_getfield(state, -2, name);
        lua_setfield(state, -2, name);
      }
      lua_pop(state, 2);
    }
    if (luaL_loadbufferx(state, kSetup, sizeof(kSetup) - 1, "=setup", "t") != LUA_OK) {
      return absl::InternalError(lua_tostring(state, -1));
    }
    lua_call(state, 0, 1);
    return absl::OkStatus();
  });
  if (!status.ok()) std::abort();
  return sandbox;
}

void BM_Pattern(benchmark::State& state, const char* op, bool metered) {
  std::unique_ptr<LuaSandbox> sandbox = MakeSandbox(metered);
  for (auto _ : state) {
    absl::Status status = sandbox->Run([&](lua_State* lua) {
      lua_getglobal(lua, "RUN");
      lua_pushstring(lua, op);
      lua_pushinteger(lua, kCallsPerRun);
      lua_call(lua, 2, 0);
      return absl::OkStatus();
    });
    if (!status.ok()) {
      state.SkipWithError(std::string(status.message()).c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * kCallsPerRun);
}

#define TM_PATTERN_BENCH(op)                           \
  BENCHMARK_CAPTURE(BM_Pattern, op##_lua, #op, false); \
  BENCHMARK_CAPTURE(BM_Pattern, op##_metered, #op, true)

TM_PATTERN_BENCH(find);
TM_PATTERN_BENCH(find_plain);
TM_PATTERN_BENCH(match);
TM_PATTERN_BENCH(gmatch);
TM_PATTERN_BENCH(gsub);
TM_PATTERN_BENCH(gsub_function);

}  // namespace
}  // namespace teleclaude::mesh::bench

BENCHMARK_MAIN();
