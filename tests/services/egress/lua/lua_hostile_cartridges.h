// Cartridges that try to hold the pipeline (issue 18 §3): each process()
// call does work far beyond its budget inside library calls, single VM
// instructions or the conversion of what it returns or emits, with at most a
// few Lua instructions between. Each must end within the wall-time budget
// plus the stated bound (lua_sandbox.h) with a limit error. Used by
// lua_sandbox_test (each alone, and through the pipeline runner) and by the
// installer/egress end-to-end test (in the real binaries). Names are valid
// cartridge names.
#ifndef TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_LUA_LUA_HOSTILE_CARTRIDGES_H_
#define TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_LUA_LUA_HOSTILE_CARTRIDGES_H_

namespace teleclaude::mesh {

struct HostileCartridge {
  const char* name;
  const char* source;
};

inline constexpr HostileCartridge kHostileCartridges[] = {
    // The issue's sort bomb (there with 200,000 values: ~15.6 s per call,
    // counted as a success). The setups here are small so that each top
    // level loads well inside its 50 ms on a loaded machine.
    {"sort-bomb", R"(
      local t = {("z"):rep(20000):byte(1, -1)}
      function process(e) for i = 1, 180 do table.sort(t) end return e end)"},
    {"sort-strings", R"(
      local t = {}
      for i = 1, 5000 do t[i] = tostring(i * 7919 % 5000) end
      function process(e) for i = 1, 1000 do table.sort(t) end return e end)"},
    {"concat-huge", R"(
      local t = {("x"):rep(20000):byte(1, -1)}
      function process(e) for i = 1, 1000 do local s = table.concat(t, ",") end return e end)"},
    {"format-width", R"(
      local f = {}
      for i = 1, 100 do f[i] = -1.7e308 end
      local format = ("%99.99f"):rep(100)
      function process(e)
        for i = 1, 1e6 do local s = string.format(format, table.unpack(f)) end
        return e
      end)"},
    {"utf8-char-range", R"(
      local codes = {("\127"):rep(20000):byte(1, -1)}
      function process(e) for i = 1, 1000 do local s = utf8.char(table.unpack(codes)) end return e end)"},
    {"rep-chain", R"(
      function process(e) local s = ("x"):rep(1000):rep(1000):rep(1000):rep(1000) return e end)"},
    {"rep-empty", R"(
      function process(e) local s = ("").rep("", 1e15) return e end)"},
    {"byte-all", R"(
      local s = ("x"):rep(1000):rep(50)
      function process(e) for i = 1, 1e6 do local n = select("#", s:byte(1, -1)) end return e end)"},
    {"unpack-range", R"(
      local t = {("x"):rep(20000):byte(1, -1)}
      function process(e) for i = 1, 1e6 do local n = select("#", table.unpack(t)) end return e end)"},
    {"move-range", R"(
      function process(e) table.move({}, 1, 1e12, 2) return e end)"},
    {"insert-len", R"(
      local t = setmetatable({}, {__len = function() return 1e12 end})
      function process(e) table.insert(t, 1, 0) return e end)"},
    {"codes-rescan", R"(
      local s = ("\x80"):rep(1000):rep(200)
      function process(e)
        local step = utf8.codes(s, true)
        for i = 1, 1e9 do step(s, 0) end
        return e
      end)"},
    // Single VM instructions on large operands. Comparing two 256 KB
    // strings of NUL bytes takes ~1.4 ms (strcoll per NUL-separated piece),
    // so a thousand instructions between two count hooks take ~0.4 s: the
    // watchdog stops this one near the deadline. Then concatenating a
    // 256 KB string, passing 20,000 arguments.
    {"compare-loop", R"(
      local a = ("\0"):rep(1000):rep(256)
      local b = a:sub(1)
      function process(e) for i = 1, 1e9 do local less = a < b end return e end)"},
    {"concat-loop", R"(
      local a = ("x"):rep(1000):rep(256)
      function process(e) for i = 1, 1e9 do local c = a .. i end return e end)"},
    {"vararg-loop", R"(
      local t = {("x"):rep(20000):byte(1, -1)}
      local function sink(...) end
      local function spin(...) for i = 1, 1e9 do sink(...) end end
      function process(e) spin(table.unpack(t)) return e end)"},
    // The host's conversions of what the script returns and emits.
    {"emit-keys", R"(
      function process(e)
        local p = {}
        for i = 1, 30000 do p["k" .. i] = i end
        for i = 1, 10 do emit{event = "hostile.emitted", level = 1, payload = p} end
        return e
      end)"},
    {"return-keys", R"(
      function process(e)
        for i = 1, 30000 do e["k" .. i] = i end
        return e
      end)"},
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_LUA_LUA_HOSTILE_CARTRIDGES_H_
