// A Lua chunk for differential tests of the charged library functions
// (lua_charged_functions.h) against Lua's own: it defines the global
// function check_charged(s, u, i, j, n), which calls every wrapped function
// (string.byte, char, format, lower, pack, packsize, rep, reverse, sub,
// unpack, upper, the string arithmetic metamethods, utf8.char, codepoint,
// codes, len, offset, tonumber, rawequal, math.max, min) with arguments
// built from a string `s`, a UTF-8 string `u` and integers i, j, n, good
// and bad, and returns every result or error as text with its Lua types.
// Used by lua_charged_functions_test.
#ifndef TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_LUA_LUA_CHARGED_CHECK_H_
#define TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_LUA_LUA_CHARGED_CHECK_H_

namespace teleclaude::mesh {

inline constexpr char kLuaChargedCheck[] = R"lua(
  local function show(...)
    local out = {}
    for k = 1, select("#", ...) do
      local v = select(k, ...)
      if type(v) == "string" then out[k] = string.format("%q", v)
      elseif math.type(v) then out[k] = math.type(v) .. ":" .. tostring(v)
      else out[k] = tostring(v) end
    end
    return "(" .. table.concat(out, ",") .. ")"
  end
  local function try(f)
    local r = table.pack(pcall(f))
    if r[1] then return show(table.unpack(r, 2, r.n)) end
    return "error: " .. tostring(r[2])
  end
  function check_charged(s, u, i, j, n)
    local tostringable = setmetatable({}, {__tostring = function() return "T" .. n end})
    local calls = {
      {"byte", function() return s:byte(i, j) end},
      {"byte default", function() return string.byte(s) end},
      {"byte all", function() return s:byte(1, -1) end},
      {"byte float", function() return s:byte(1.0, "2") end},
      {"byte bad", function() return s:byte(1.5) end},
      {"char", function() return string.char(s:byte(1, -1)) end},
      {"char range", function() return string.char(256) end},
      {"char type", function() return string.char("x") end},
      {"rep", function() return s:rep(n) end},
      {"rep sep", function() return s:rep(n, "<>") end},
      {"rep zero", function() return s:rep(0, "x"), s:rep(-n) end},
      {"rep bad", function() return s:rep("x") end},
      {"rep float", function() return s:rep(1e300) end},
      {"rep number", function() return string.rep(12, 2, 3) end},
      {"sub", function() return s:sub(i, j) end},
      {"sub one", function() return s:sub(i) end},
      {"sub bad", function() return s:sub() end},
      {"sub table", function() return string.sub({}) end},
      {"case", function() return s:upper(), s:lower(), s:reverse(), u:upper() end},
      {"case bad", function() return string.upper() end},
      {"format", function()
        return string.format("%5.2f|%d|%s|%q|%x|%c|%-5s|%a|%g|%e|%i|%%|%X|%o|%u", i + 0.5, i, s,
                             s, n, 65, "ab", 1.5, 1e10, 2.5, j, 255, 8, n)
      end},
      {"format q", function() return string.format("%q|%q|%q", math.mininteger, 1 / 0, 0.1) end},
      {"format bad", function() return string.format("%y", 1) end},
      {"format missing", function() return string.format("%d %d", 1) end},
      {"format width", function() return string.format("%100d", 1) end},
      {"format precision", function() return string.format("%.100f", 1) end},
      {"format long", function() return string.format("%99.99f", -1.7e308) end},
      {"format small", function() return string.format("%.99f|%.99e|%.99g", 5e-324, 1e-300, 1e300) end},
      {"format tostring", function() return string.format("%s|%10s", tostringable, "ab") end},
      {"format s zero", function() return string.format("%10s", "a\0b") end},
      {"format not number", function() return string.format("%d", "x") end},
      {"format number", function() return string.format(12) end},
      {"pack", function() return string.pack("i4 z s1", i, s:gsub("%z", ""), s) end},
      {"pack bad", function() return string.pack("i4", "x") end},
      {"packsize", function() return string.packsize("i4 i8 d"), string.packsize("!8 i3 d") end},
      {"packsize bad", function() return string.packsize("z") end},
      {"unpack", function() return string.unpack("i4 z s1", string.pack("i4 z s1", i, "ab", s)) end},
      {"unpack pos", function() return string.unpack("z", "ab\0cd\0", i) end},
      {"unpack short", function() return string.unpack("i4", "ab") end},
      {"unpack unfinished", function() return string.unpack("z", s .. "x") end},
      {"arith", function()
        return "10" + i, "3" * "4", -"2", "7" // "2", "7" % "3", "2" ^ "3", "1" / "4", "5" - 1,
               "0x10" + 0, " 7 " + 0, "1e2" + 0
      end},
      {"arith bad", function() return s .. "x" + 1 end},
      {"arith table", function() return "1" + {} end},
      {"utf8 char", function() return utf8.char(72, 228, 8364, 0x10FFFF, 0x7FFFFFFF) end},
      {"utf8 char one", function() return utf8.char(n) end},
      {"utf8 char bad", function() return utf8.char(-1) end},
      {"utf8 codepoint", function() return utf8.codepoint(u, i, j) end},
      {"utf8 codepoint lax", function() return utf8.codepoint(u, 1, -1, true) end},
      {"utf8 codepoint bad", function() return utf8.codepoint(s .. "\255", 1, -1) end},
      {"utf8 len", function() return utf8.len(u, i, j) end},
      {"utf8 len s", function() return utf8.len(s) end},
      {"utf8 len bad", function() return utf8.len(u, 0) end},
      {"utf8 offset", function() return utf8.offset(u, n, i) end},
      {"utf8 offset neg", function() return utf8.offset(u, -n) end},
      {"utf8 offset zero", function() return utf8.offset(u, 0, j) end},
      {"utf8 offset bad", function() return utf8.offset(u, 1, #u + 2) end},
      {"utf8 codes", function()
        local out = {}
        for p, c in utf8.codes(u) do out[#out + 1] = p .. ":" .. c end
        return table.concat(out, " ")
      end},
      {"utf8 codes lax", function()
        local out = {}
        for p, c in utf8.codes(u .. "\xF4\x90\x80\x80", true) do out[#out + 1] = p .. ":" .. c end
        return table.concat(out, " ")
      end},
      {"utf8 codes bad", function() for p, c in utf8.codes(s .. "\255") do end end},
      {"utf8 codes step", function()
        local f, str, start = utf8.codes(u)
        return f(str, i), f(str, #u), f(str, -1)
      end},
      {"tonumber", function()
        return tonumber(s), tonumber("0x" .. n), tonumber("z", 36), tonumber(" 12 "),
               tonumber("1e5"), tonumber(n), tonumber("7", 8), tonumber(s, 16)
      end},
      {"tonumber bad", function() return tonumber("1", 99) end},
      {"tonumber none", function() return tonumber() end},
      {"rawequal", function() return rawequal(s, s .. ""), rawequal(s, "x"), rawequal({}, {}) end},
      {"rawequal bad", function() return rawequal(1) end},
      {"max", function() return math.max(i, j, n), math.min(i, j, n), math.max(1.5, 2) end},
      {"max bad", function() return math.max() end},
      {"min type", function() return math.min("x") end},
    }
    local out = {}
    for _, call in ipairs(calls) do out[#out + 1] = call[1] .. " " .. try(call[2]) end
    return table.concat(out, "\n")
  end
)lua";

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_LUA_LUA_CHARGED_CHECK_H_
