// Lua 5.4's table library (table.concat, insert, move, pack, remove, sort,
// unpack) with each function charging its work to a LuaStepMeter
// (lua_meter.h), so that the sandbox can stop it (issue 18 §3).
//
// Lua's own functions loop in C out of reach of a count hook: table.sort
// of 200,000 strings holds the thread for ~0.2 s per call (and a script
// can call it in a loop of a few instructions), and table.move, insert and
// remove loop over a range the script chooses (`table.move({}, 1, 1e12, 2)`,
// or a __len metamethod returning 1e12) without allocating anything. These
// functions give the same results and error messages as Lua 5.4.4's (the
// version Debian 12 ships; they honour __index, __newindex and __len the
// same way, and sort arrays of at most 100 elements in exactly the same
// order even with an inconsistent order function), and differ only in
// that they charge:
//  * insert, remove, move: kLuaTableMoveCost per element moved, before
//    moving any;
//  * unpack, pack: kLuaTableValueCost per value, before pushing any;
//  * concat: kLuaTableMoveCost per element, before reading any, and one
//    unit per kLuaTableCopyBytesPerUnit bytes appended, as it goes;
//  * sort: kLuaTableCompareCost per comparison, plus one unit per
//    kLuaTableCompareBytesPerUnit bytes of the shorter string when two
//    strings are compared, as it goes (n log n comparisons for n elements;
//    more for an adversarial order, which then ends in the budget).
// Metamethods and order functions are Lua code: the count hook counts them.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_TABLE_LIBRARY_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_TABLE_LIBRARY_H_

#include <cstdint>

#include "services/egress/lua/lua_meter.h"

struct lua_State;

namespace teleclaude::mesh {

inline constexpr int64_t kLuaTableMoveCost = 8;
inline constexpr int64_t kLuaTableValueCost = 2;
inline constexpr int64_t kLuaTableCompareCost = 16;
inline constexpr int64_t kLuaTableCopyBytesPerUnit = 4;
inline constexpr int64_t kLuaTableCompareBytesPerUnit = 16;

// Sets the fields concat, insert, move, pack, remove, sort and unpack of
// the table at `index` (the table library's table) to the metered
// functions. `meter` may be null (work is counted and dropped); otherwise
// it must outlive every call of the functions.
// REQUIRES: runs in protected mode (it allocates).
void InstallLuaTableFunctions(lua_State* state, int index, LuaStepMeter* meter);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_TABLE_LIBRARY_H_
