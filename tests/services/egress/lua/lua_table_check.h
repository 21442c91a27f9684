// A Lua chunk for differential tests of the table library
// (lua_table_library.h) against Lua's own: it defines the global function
// check_table(values, seed, only), which runs table.sort (without and with
// order functions, consistent, inconsistent and raising), concat, insert,
// remove, move, unpack and pack over copies of `values` (a list, at most
// 100 elements, so that sort never randomizes its pivot), on plain tables
// and on proxies whose __index, __newindex and __len log every access, and
// returns every result, error and access log as text. `seed` drives the
// positions and the inconsistent order function; `only` (optional) picks
// one of the kChecks groups (sort, concat/unpack/pack, insert/remove, move,
// proxies, not tables) by its value modulo kChecks. Used by
// lua_table_library_test and tests/fuzz/fuzz_lua_table.
#ifndef TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_LUA_LUA_TABLE_CHECK_H_
#define TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_LUA_LUA_TABLE_CHECK_H_

namespace teleclaude::mesh {

inline constexpr char kLuaTableCheck[] = R"lua(
  local function show(v)
    if type(v) == "string" then return string.format("%q", v)
    elseif math.type(v) then return math.type(v) .. ":" .. tostring(v)
    elseif type(v) == "table" then return "table"
    else return tostring(v) end
  end
  local function list(t, n)
    local out = {}
    for i = 1, n do out[i] = show(rawget(t, i)) end
    return "[" .. table.concat(out, ",") .. "]"
  end
  local function copy(values)
    local t = {}
    for i = 1, #values do t[i] = values[i] end
    return t
  end
  -- A table whose accesses go through logging metamethods.
  local function proxy(values, log)
    local store = copy(values)
    local length = #values
    return setmetatable({}, {
      __index = function(_, k) log[#log + 1] = "get " .. show(k) return store[k] end,
      __newindex = function(_, k, v)
        log[#log + 1] = "set " .. show(k) .. "=" .. show(v)
        store[k] = v
      end,
      __len = function() log[#log + 1] = "len" return length end,
    }), store
  end
  local function try(f, ...)
    local r = table.pack(pcall(f, ...))
    if not r[1] then return "error: " .. tostring(r[2]) end
    local out = {}
    for i = 2, r.n do out[#out + 1] = show(r[i]) end
    return "(" .. table.concat(out, ",") .. ")"
  end
  local function lcg(seed)
    local x = seed
    return function(n)
      x = (x * 1103515245 + 12345) % 2147483648
      return x % n
    end
  end
  function check_table(values, seed, only)
    local n = #values
    local random = lcg(seed)
    local i, j = random(n + 3) - 1, random(n + 3) - 1
    local out = {}
    local function add(label, text) out[#out + 1] = label .. " " .. text end
    local function want(group) return only == nil or only % 6 + 1 == group end
    local function sorted(label, f)
      local t = copy(values)
      add(label, try(table.sort, t, f) .. " " .. list(t, n))
    end
    if want(1) then
    sorted("sort", nil)
    sorted("sort >", function(a, b)
      if type(a) ~= type(b) then return type(a) > type(b) end
      return a > b
    end)
    local calls = 0
    sorted("sort random", function(a, b) calls = calls + 1 return random(3) == 0 end)
    add("calls", tostring(calls))
    sorted("sort always", function() return true end)
    calls = 0
    sorted("sort raises", function(a, b)
      calls = calls + 1
      if calls > n then error("stop " .. calls) end
      return tostring(a) < tostring(b)
    end)
    sorted("sort bad", 42)
    end
    if want(2) then
    add("concat", try(table.concat, copy(values)))
    add("concat sep", try(table.concat, copy(values), ", ", i, j))
    add("concat range", try(table.concat, copy(values), "", i))
    add("unpack", try(table.unpack, copy(values)))
    add("unpack range", try(table.unpack, copy(values), i, j))
    add("pack", try(function(...) local p = table.pack(...) return p.n, list(p, p.n) end,
                    table.unpack(values)))
    end
    if want(3) then
    for _, position in ipairs({1, i, n, n + 1, n + 2, 0, -1}) do
      local t = copy(values)
      add("insert " .. position, try(table.insert, t, position, "new") .. " " .. list(t, n + 1))
      t = copy(values)
      add("remove " .. position, try(table.remove, t, position) .. " " .. list(t, n + 1))
    end
    do
      local t = copy(values)
      add("append", try(table.insert, t, "end") .. " " .. list(t, n + 1))
      add("remove last", try(table.remove, t) .. " " .. list(t, n + 1))
      add("insert 4 args", try(table.insert, t, 1, 2, 3))
    end
    end
    if want(4) then
    for _, m in ipairs({{1, n, 2}, {2, n, 1}, {i, j, random(n + 2)}, {1, 0, 5},
                        {-3, 2, 1}, {1, math.maxinteger, 2}, {math.mininteger, -1, 1},
                        {1, 2, math.maxinteger}}) do
      local t = copy(values)
      local label = "move " .. table.concat(m, ",")
      add(label, try(table.move, t, m[1], m[2], m[3]) .. " " .. list(t, n + 3))
      local other = {}
      add(label .. " other", try(table.move, copy(values), m[1], m[2], m[3], other) .. " " ..
          list(other, n + 3))
    end
    end
    -- The same through logging proxies: the same accesses in the same order.
    local function logged(label, f, ...)
      local log = {}
      local p, store = proxy(values, log)
      local result = try(f, p, ...)
      add(label, result .. " " .. list(store, n + 1) .. " {" .. table.concat(log, ";") .. "}")
    end
    if want(5) then
    logged("proxy sort", table.sort)
    logged("proxy sort >", table.sort, function(a, b) return tostring(a) > tostring(b) end)
    logged("proxy insert", table.insert, 1, "new")
    logged("proxy insert mid", table.insert, i, "new")
    logged("proxy append", table.insert, "end")
    logged("proxy remove", table.remove, 1)
    logged("proxy remove mid", table.remove, i)
    logged("proxy move", table.move, 1, n, 2)
    logged("proxy concat", table.concat, "-")
    logged("proxy unpack", function(p) return table.unpack(p) end)
    end
    if want(6) then  -- not tables
    add("sort nil", try(table.sort, nil))
    add("concat string", try(table.concat, "abc"))
    add("insert number", try(table.insert, 1, 2))
    add("move nil", try(table.move, nil, 1, 2, 3))
    add("unpack huge", try(table.unpack, {}, 1, math.maxinteger))
    end
    return table.concat(out, "\n")
  end
)lua";

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_LUA_LUA_TABLE_CHECK_H_
