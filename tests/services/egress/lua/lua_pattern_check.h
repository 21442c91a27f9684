// A Lua chunk for differential tests of the pattern functions (lua_pattern.h)
// against Lua's own: it defines the global function check(s, p, init, repl,
// n), which calls string.find (pattern and plain), string.match,
// string.gmatch (up to 100 matches), string.gsub, and the same as methods,
// and returns every result or error as text with its Lua types; and the
// global REPLS, a list of gsub replacements of every kind. Used by
// lua_pattern_test and tests/fuzz/fuzz_lua_pattern.
#ifndef TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_LUA_LUA_PATTERN_CHECK_H_
#define TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_LUA_LUA_PATTERN_CHECK_H_

namespace teleclaude::mesh {

inline constexpr char kLuaPatternCheck[] = R"lua(
  local function show(...)
    local out = {}
    for i = 1, select("#", ...) do
      local v = select(i, ...)
      if type(v) == "string" then out[i] = string.format("%q", v)
      elseif math.type(v) then out[i] = math.type(v) .. ":" .. tostring(v)
      else out[i] = tostring(v) end
    end
    return "(" .. table.concat(out, ",") .. ")"
  end
  local function try(f, ...)
    local r = table.pack(pcall(f, ...))
    if r[1] then return show(table.unpack(r, 2, r.n)) end
    return "error: " .. tostring(r[2])
  end
  local function all(iterator)
    local out = {}
    while #out < 100 do
      local r = table.pack(iterator())
      if r[1] == nil then break end
      out[#out + 1] = show(table.unpack(r, 1, r.n))
    end
    return table.concat(out, " ")
  end
  REPLS = {
    "<%0>", "%1", "%2%1", "%%", "%", "", 7,
    function(...) return select("#", ...) .. table.concat({...}, "|") end,
    function(a) return a end,
    function() return false end,
    {a = "A", b = false},
  }
  function check(s, p, init, repl, n)
    return table.concat({
      "find " .. try(string.find, s, p, init),
      "find plain " .. try(string.find, s, p, init, true),
      "match " .. try(string.match, s, p, init),
      "gmatch " .. try(function() return all(string.gmatch(s, p, init)) end),
      "gsub " .. try(string.gsub, s, p, repl, n),
      "methods " .. try(function()
        return s:find(p, init), s:match(p, init), s:gsub(p, repl, n)
      end),
    }, "\n")
  end
)lua";

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_LUA_LUA_PATTERN_CHECK_H_
