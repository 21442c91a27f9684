// Charges for the Lua library functions the sandbox keeps as Lua's own
// (issue 18 §3): each is wrapped in a C function that works out from its
// arguments what the call will cost and charges it to a LuaStepMeter
// (lua_meter.h) before calling Lua's function, or, where only the result
// tells (how far a scan went), right after it returns. A call whose charge
// exceeds the budget does no work at all.
//
// Units (one is about one VM instruction, ~2 ns; measured per function on
// the development machine, with the allocation of the result, and rounded
// up):
//   string.byte      2 per value returned
//   string.char      4 per argument
//   string.rep       1 per copy plus 1 per 4 bytes of the result
//   string.sub       1 per 4 bytes of the result
//   string.lower, upper, reverse          1 per 2 bytes
//   string.format    per item: 32 (+2 per width) for integers, characters
//                    and pointers; 64 + 24 per digit for floats (a %f of
//                    1e308 with precision 99 has 407 digits and takes
//                    ~10 µs); 2 per byte of a %q string; 1 per 4 bytes of
//                    a %s string; plus 1 per 4 bytes of the format
//   string.pack      1 per format byte and argument, 1 per 4 bytes of
//                    string arguments; packsize 1 per format byte
//   string.unpack    2 per format byte before; 1 per 4 bytes read after
//   string arithmetic metamethods ("10" + 1)   1 per 4 bytes of strings
//   utf8.char        32 per argument
//   utf8.codepoint   2 per byte of the range; utf8.len 1 per byte of the range
//   utf8.offset      1 per byte moved over (after); the utf8.codes iterator
//                    1 per call plus 1 per byte skipped (after)
//   tonumber         1 per 4 bytes of a string
//   rawequal         1 per 4 bytes of two strings of equal length
//   math.max, min    1 per argument
// Every other function of string, utf8, math and the base library does
// constant work in C (lua_sandbox.h lists them); find, match, gmatch and
// gsub are lua_pattern.h's, the table library lua_table_library.h's.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_CHARGED_FUNCTIONS_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_CHARGED_FUNCTIONS_H_

#include "services/egress/lua/lua_meter.h"

struct lua_State;

namespace teleclaude::mesh {

// Wraps the functions above in the global tables string, utf8 and math,
// the globals tonumber and rawequal, and the string metatable. `meter` may
// be null (charges are dropped); otherwise it must outlive every call.
// REQUIRES: the base, string, utf8 and math libraries are open; runs in
// protected mode (it allocates); called once per state.
void InstallChargedLuaFunctions(lua_State* state, LuaStepMeter* meter);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_CHARGED_FUNCTIONS_H_
