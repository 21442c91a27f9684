#include "services/egress/lua/lua_table_library.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstddef>
#include <utility>

#include "lauxlib.h"
#include "lua.h"

// The semantics follow ltablib.c of Lua 5.4.4 (MIT licence) step by step:
// the same argument checks in the same order, the same metamethod calls and
// the same error messages. The charges are the only addition.

namespace teleclaude::mesh {
namespace {

// What a value passed as a table must support (checktab).
constexpr int kRead = 1;
constexpr int kWrite = 2;
constexpr int kLength = 4;

LuaStepMeter* MeterOf(lua_State* state) {
  return static_cast<LuaStepMeter*>(lua_touserdata(state, lua_upvalueindex(1)));
}

void Charge(lua_State* state, int64_t units) {
  if (units <= 0) return;
  if (LuaStepMeter* meter = MeterOf(state)) meter->ChargeSteps(state, units);
}

// The cost of `count` + `extra` elements at `each` units.
int64_t ElementsCost(lua_Unsigned count, lua_Unsigned extra, int64_t each) {
  return LuaCostSum(LuaCostProduct(count, each), LuaCostProduct(extra, each));
}

bool CheckField(lua_State* state, const char* key, int n) {
  lua_pushstring(state, key);
  return lua_rawget(state, -n) != LUA_TNIL;
}

// `arg` is a table or has a metatable with the metamethods `what` needs.
void CheckTable(lua_State* state, int arg, int what) {
  if (lua_type(state, arg) == LUA_TTABLE) return;
  int n = 1;  // elements to pop
  if (lua_getmetatable(state, arg) && (!(what & kRead) || CheckField(state, "__index", ++n)) &&
      (!(what & kWrite) || CheckField(state, "__newindex", ++n)) &&
      (!(what & kLength) || CheckField(state, "__len", ++n))) {
    lua_pop(state, n);
  } else {
    luaL_checktype(state, arg, LUA_TTABLE);  // raises the error
  }
}

lua_Integer Length(lua_State* state, int arg, int what) {
  CheckTable(state, arg, what | kLength);
  return luaL_len(state, arg);
}

int Insert(lua_State* state) {
  lua_Integer end = Length(state, 1, kRead | kWrite);
  end = static_cast<lua_Integer>(static_cast<lua_Unsigned>(end) + 1);  // first empty element
  lua_Integer position;
  switch (lua_gettop(state)) {
    case 2:
      position = end;
      break;
    case 3: {
      position = luaL_checkinteger(state, 2);
      luaL_argcheck(state,
                    static_cast<lua_Unsigned>(position) - 1u < static_cast<lua_Unsigned>(end), 2,
                    "position out of bounds");
      if (end > position) {
        Charge(state,
               ElementsCost(static_cast<lua_Unsigned>(end) - position, 0, kLuaTableMoveCost));
      }
      for (lua_Integer i = end; i > position; --i) {  // move up elements
        lua_geti(state, 1, i - 1);
        lua_seti(state, 1, i);
      }
      break;
    }
    default:
      return luaL_error(state, "wrong number of arguments to 'insert'");
  }
  lua_seti(state, 1, position);
  return 0;
}

int Remove(lua_State* state) {
  const lua_Integer size = Length(state, 1, kRead | kWrite);
  lua_Integer position = luaL_optinteger(state, 2, size);
  if (position != size) {
    luaL_argcheck(state,
                  static_cast<lua_Unsigned>(position) - 1u <= static_cast<lua_Unsigned>(size), 1,
                  "position out of bounds");
  }
  if (position < size) {
    Charge(state, ElementsCost(static_cast<lua_Unsigned>(size) - position, 0, kLuaTableMoveCost));
  }
  lua_geti(state, 1, position);
  for (; position < size; ++position) {
    lua_geti(state, 1, position + 1);
    lua_seti(state, 1, position);
  }
  lua_pushnil(state);
  lua_seti(state, 1, position);
  return 1;
}

int Move(lua_State* state) {
  const lua_Integer from = luaL_checkinteger(state, 2);
  const lua_Integer end = luaL_checkinteger(state, 3);
  const lua_Integer to = luaL_checkinteger(state, 4);
  const int destination = !lua_isnoneornil(state, 5) ? 5 : 1;
  CheckTable(state, 1, kRead);
  CheckTable(state, destination, kWrite);
  if (end >= from) {
    luaL_argcheck(state, from > 0 || end < LUA_MAXINTEGER + from, 3, "too many elements to move");
    const lua_Integer n = end - from + 1;
    luaL_argcheck(state, to <= LUA_MAXINTEGER - n + 1, 4, "destination wrap around");
    Charge(state, ElementsCost(static_cast<lua_Unsigned>(n), 0, kLuaTableMoveCost));
    if (to > end || to <= from ||
        (destination != 1 && !lua_compare(state, 1, destination, LUA_OPEQ))) {
      for (lua_Integer i = 0; i < n; ++i) {
        lua_geti(state, 1, from + i);
        lua_seti(state, destination, to + i);
      }
    } else {
      for (lua_Integer i = n - 1; i >= 0; --i) {
        lua_geti(state, 1, from + i);
        lua_seti(state, destination, to + i);
      }
    }
  }
  lua_pushvalue(state, destination);
  return 1;
}

void AddField(lua_State* state, luaL_Buffer* buffer, lua_Integer i, LuaStepCounter& steps) {
  lua_geti(state, 1, i);
  if (!lua_isstring(state, -1)) {
    luaL_error(state, "invalid value (%s) at index %I in table for 'concat'",
               luaL_typename(state, -1), static_cast<LUAI_UACINT>(i));
  }
  steps.Step(state, static_cast<int64_t>(lua_rawlen(state, -1) / kLuaTableCopyBytesPerUnit));
  luaL_addvalue(buffer);
}

int Concat(lua_State* state) {
  lua_Integer last = Length(state, 1, kRead);
  size_t separator_size;
  const char* separator = luaL_optlstring(state, 2, "", &separator_size);
  lua_Integer i = luaL_optinteger(state, 3, 1);
  last = luaL_optinteger(state, 4, last);
  if (i <= last) {
    Charge(state,
           ElementsCost(static_cast<lua_Unsigned>(last) - static_cast<lua_Unsigned>(i), 1,
                        kLuaTableMoveCost +
                            static_cast<int64_t>(separator_size / kLuaTableCopyBytesPerUnit)));
  }
  LuaStepCounter steps(MeterOf(state));
  luaL_Buffer buffer;
  luaL_buffinit(state, &buffer);
  for (; i < last; ++i) {
    AddField(state, &buffer, i, steps);
    luaL_addlstring(&buffer, separator, separator_size);
  }
  if (i == last) AddField(state, &buffer, i, steps);  // the last (the interval was not empty)
  steps.Flush(state);
  luaL_pushresult(&buffer);
  return 1;
}

int Pack(lua_State* state) {
  const int n = lua_gettop(state);
  Charge(state, ElementsCost(static_cast<lua_Unsigned>(n), 0, kLuaTableValueCost));
  lua_createtable(state, n, 1);
  lua_insert(state, 1);
  for (int i = n; i >= 1; --i) lua_seti(state, 1, i);
  lua_pushinteger(state, n);
  lua_setfield(state, 1, "n");
  return 1;
}

int Unpack(lua_State* state) {
  lua_Integer i = luaL_optinteger(state, 2, 1);
  const lua_Integer end = luaL_opt(state, luaL_checkinteger, 3, luaL_len(state, 1));
  if (i > end) return 0;
  lua_Unsigned n = static_cast<lua_Unsigned>(end) - i;  // elements minus 1 (no overflow)
  if (n >= static_cast<unsigned int>(INT_MAX)) {
    return luaL_error(state, "too many results to unpack");
  }
  Charge(state, ElementsCost(n, 1, kLuaTableValueCost));
  if (!lua_checkstack(state, static_cast<int>(++n))) {
    return luaL_error(state, "too many results to unpack");
  }
  for (; i < end; ++i) lua_geti(state, 1, i);  // up to end - 1 (no overflow)
  lua_geti(state, 1, end);
  return static_cast<int>(n);
}

// ---------------------------------------------------------------------------
// Quicksort ('Algorithms in MODULA-3', Robert Sedgewick, as in Lua).

using Index = unsigned int;

// Arrays larger than this may use randomized pivots.
constexpr Index kRandomLimit = 100u;

// A "random" number for the pivot after a badly balanced partition (Lua
// uses clock() and time()).
unsigned int RandomizePivot() {
  const auto now =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return static_cast<unsigned int>((now * 0x9E3779B97F4A7C15ull) >> 32);
}

class Sorter {
 public:
  explicit Sorter(lua_State* state) : state_(state), steps_(MeterOf(state)) {}

  // The whole array 1..n (argument 1), order function (or nil) at 2.
  void Sort(Index n) {
    Sort(1, n, 0);
    steps_.Flush(state_);
  }

 private:
  void Set2(Index i, Index j) {
    lua_seti(state_, 1, i);
    lua_seti(state_, 1, j);
  }

  // Whether the value at stack index `a` is less than the one at `b`.
  bool Less(int a, int b) {
    int64_t units = kLuaTableCompareCost;
    if (lua_isnil(state_, 2)) {
      if (lua_type(state_, a) == LUA_TSTRING && lua_type(state_, b) == LUA_TSTRING) {
        const size_t shorter = std::min(lua_rawlen(state_, a), lua_rawlen(state_, b));
        units += static_cast<int64_t>(shorter / kLuaTableCompareBytesPerUnit);
      }
      steps_.Step(state_, units);
      return lua_compare(state_, a, b, LUA_OPLT);
    }
    steps_.Step(state_, units);
    lua_pushvalue(state_, 2);      // the function
    lua_pushvalue(state_, a - 1);  // -1 for the function
    lua_pushvalue(state_, b - 2);  // -2 for the function and a
    lua_call(state_, 2, 1);
    const bool less = lua_toboolean(state_, -1);
    lua_pop(state_, 1);
    return less;
  }

  // The pivot P is on top of the stack; a[lo] <= P == a[up - 1] <= a[up].
  // Returns i with a[lo .. i - 1] <= a[i] == P <= a[i + 1 .. up].
  Index Partition(Index lo, Index up) {
    Index i = lo;      // incremented before first use
    Index j = up - 1;  // decremented before first use
    for (;;) {
      // repeat ++i while a[i] < P
      for (lua_geti(state_, 1, ++i); Less(-1, -2); lua_geti(state_, 1, ++i)) {
        if (i == up - 1) luaL_error(state_, "invalid order function for sorting");
        lua_pop(state_, 1);
      }
      // repeat --j while P < a[j]
      for (lua_geti(state_, 1, --j); Less(-3, -1); lua_geti(state_, 1, --j)) {
        if (j < i) luaL_error(state_, "invalid order function for sorting");
        lua_pop(state_, 1);
      }
      if (j < i) {  // no elements out of place
        lua_pop(state_, 1);
        Set2(up - 1, i);  // swap the pivot (a[up - 1]) with a[i]
        return i;
      }
      Set2(i, j);
    }
  }

  // An element in the middle half of [lo, up], "randomized" by `random`.
  static Index ChoosePivot(Index lo, Index up, unsigned int random) {
    const Index quarter = (up - lo) / 4;
    return random % (quarter * 2) + (lo + quarter);
  }

  void Sort(Index lo, Index up, unsigned int random) {
    while (lo < up) {  // loop for tail recursion
      // sort a[lo], a[p] and a[up]
      lua_geti(state_, 1, lo);
      lua_geti(state_, 1, up);
      if (Less(-1, -2)) {  // a[up] < a[lo]?
        Set2(lo, up);
      } else {
        lua_pop(state_, 2);
      }
      if (up - lo == 1) return;  // only 2 elements
      Index p =
          (up - lo < kRandomLimit || random == 0) ? (lo + up) / 2 : ChoosePivot(lo, up, random);
      lua_geti(state_, 1, p);
      lua_geti(state_, 1, lo);
      if (Less(-2, -1)) {  // a[p] < a[lo]?
        Set2(p, lo);
      } else {
        lua_pop(state_, 1);
        lua_geti(state_, 1, up);
        if (Less(-1, -2)) {  // a[up] < a[p]?
          Set2(p, up);
        } else {
          lua_pop(state_, 2);
        }
      }
      if (up - lo == 2) return;  // only 3 elements
      lua_geti(state_, 1, p);    // the pivot
      lua_pushvalue(state_, -1);
      lua_geti(state_, 1, up - 1);
      Set2(p, up - 1);  // a[p] <-> a[up - 1]
      p = Partition(lo, up);
      Index smaller;
      if (p - lo < up - p) {  // the lower interval is smaller
        Sort(lo, p - 1, random);
        smaller = p - lo;
        lo = p + 1;
      } else {
        Sort(p + 1, up, random);
        smaller = up - p;
        up = p - 1;
      }
      if ((up - lo) / 128 > smaller) random = RandomizePivot();  // too imbalanced
    }
  }

  lua_State* const state_;
  LuaStepCounter steps_;
};

int Sort(lua_State* state) {
  const lua_Integer n = Length(state, 1, kRead | kWrite);
  if (n > 1) {
    luaL_argcheck(state, n < INT_MAX, 1, "array too big");
    if (!lua_isnoneornil(state, 2)) luaL_checktype(state, 2, LUA_TFUNCTION);
    lua_settop(state, 2);
    Sorter(state).Sort(static_cast<Index>(n));
  }
  return 0;
}

}  // namespace

void InstallLuaTableFunctions(lua_State* state, int index, LuaStepMeter* meter) {
  index = lua_absindex(state, index);
  const std::pair<const char*, lua_CFunction> functions[] = {
      {"concat", &Concat}, {"insert", &Insert}, {"move", &Move},     {"pack", &Pack},
      {"remove", &Remove}, {"sort", &Sort},     {"unpack", &Unpack},
  };
  for (const auto& [name, function] : functions) {
    lua_pushlightuserdata(state, meter);
    lua_pushcclosure(state, function, 1);
    lua_setfield(state, index, name);
  }
}

}  // namespace teleclaude::mesh
