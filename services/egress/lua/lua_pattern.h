// Lua 5.4's pattern functions string.find, string.match, string.gmatch and
// string.gsub with a matcher that reports the work it does, so that a
// sandbox can stop a pathological pattern (issue 7 follow-up).
//
// Lua's own matcher (lstrlib.c) backtracks recursively inside a single C
// call, out of reach of a count hook: ("a"):rep(5000):find(("a*"):rep(3).."b")
// runs for minutes. These functions give the same results, captures
// (including position captures), and error messages as Lua 5.4.4's, the
// version Debian 12 ships, including its limits: 32 captures, a match
// recursion depth of 200 ("pattern too complex"). They differ only in that
// they count steps and hand them to a LuaStepMeter (lua_meter.h; one step
// is one unit) every kLuaPatternStepsPerCharge steps and when a call
// returns; the meter may raise a Lua error, which ends the call.
//
// A step is one attempt of the matcher: a call of its recursive match (each
// backtracking attempt), a single-character test (each repetition tried), a
// subject byte scanned by %b, or up to 32 bytes compared by a back reference
// %1-%9. A plain find (plain argument, or no special characters) is a
// linear memory search and is not counted.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_PATTERN_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_PATTERN_H_

#include <cstdint>

#include "services/egress/lua/lua_meter.h"

struct lua_State;

namespace teleclaude::mesh {

// Steps the matcher does between two calls of LuaStepMeter::ChargeSteps.
inline constexpr int64_t kLuaPatternStepsPerCharge = kLuaStepsPerCharge;

// Sets the fields find, match, gmatch and gsub of the table at `index` (the
// string library's table; its functions are also the string methods, as
// the string metatable's __index is that table) to the metered functions.
// `meter` may be null (steps are counted and dropped); otherwise it must
// outlive every call of the functions and every gmatch iterator.
// REQUIRES: runs in protected mode (it allocates).
void InstallLuaPatternFunctions(lua_State* state, int index, LuaStepMeter* meter);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_PATTERN_H_
