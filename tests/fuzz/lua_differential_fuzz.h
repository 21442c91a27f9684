// What the differential Lua fuzz targets share (fuzz_lua_pattern,
// fuzz_lua_table): a Lua state with Lua's own libraries, some replaced by
// the sandbox's or not, with a check chunk loaded; and calling the check
// function for its printed result.
#ifndef TELECLAUDE_MESH_TESTS_FUZZ_LUA_DIFFERENTIAL_FUZZ_H_
#define TELECLAUDE_MESH_TESTS_FUZZ_LUA_DIFFERENTIAL_FUZZ_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "services/egress/lua/lua_meter.h"

namespace teleclaude::mesh::fuzz {

[[noreturn]] inline void Fail(const char* target, const char* what, const std::string& detail) {
  std::fprintf(stderr, "%s: %s\n%s\n", target, what, detail.c_str());
  std::abort();
}

// How the sandbox replaces functions of one library table
// (InstallLuaPatternFunctions, InstallLuaTableFunctions).
using LuaInstall = void (*)(lua_State* state, int index, LuaStepMeter* meter);

// A state with Lua's libraries; with a meter, `install` replaces functions
// of the global table `library`. Then runs `check_chunk`.
inline lua_State* NewCheckState(const char* target, const char* library, LuaInstall install,
                                LuaStepMeter* meter, const char* check_chunk) {
  lua_State* state = luaL_newstate();
  luaL_openlibs(state);
  if (meter != nullptr) {
    lua_getglobal(state, library);
    install(state, -1, meter);
    lua_pop(state, 1);
  }
  if (luaL_dostring(state, check_chunk) != LUA_OK) Fail(target, "driver", lua_tostring(state, -1));
  return state;
}

// Calls the function pushed after stack height `top` with the `arguments`
// pushed after it; returns its first result as text, or "error: <message>"
// when it raised. Restores the stack to `top`.
inline std::string CallCheck(lua_State* state, int top, int arguments) {
  std::string out;
  if (lua_pcall(state, arguments, 1, 0) != LUA_OK) out = "error: ";
  size_t size = 0;
  const char* text = lua_tolstring(state, -1, &size);
  if (text != nullptr) out.append(text, size);
  lua_settop(state, top);
  return out;
}

}  // namespace teleclaude::mesh::fuzz

#endif  // TELECLAUDE_MESH_TESTS_FUZZ_LUA_DIFFERENTIAL_FUZZ_H_
