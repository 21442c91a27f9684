// libFuzzer target: the metered table library (lua_table_library.h) against
// Lua's own table library through lua_table_check.h's check_table() (sort
// with and without order functions, consistent, inconsistent and raising;
// concat, insert, remove, move, unpack, pack; plain tables and logging
// proxies): the printed results, errors and accesses must be the same. Any
// difference aborts.
//
// Input: byte 0 the seed (positions, the inconsistent order function), byte
// 1 the kind of values (bits 0-1: 0 integers, 1 strings, 2 floats with NaN
// and infinities, 3 anything incl. booleans) and the group of checks (bits
// 2-7: check_table's `only`, half the inputs sorting), then one value per
// byte (at most 100, so that sort never randomizes its pivot).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "lua.h"
#include "services/egress/lua/lua_table_library.h"
#include "tests/fuzz/lua_differential_fuzz.h"
#include "tests/services/egress/lua/lua_table_check.h"

namespace {

using teleclaude::mesh::InstallLuaTableFunctions;
using teleclaude::mesh::kLuaTableCheck;
using teleclaude::mesh::LuaStepMeter;
using teleclaude::mesh::fuzz::CallCheck;
using teleclaude::mesh::fuzz::Fail;
using teleclaude::mesh::fuzz::NewCheckState;

constexpr char kTarget[] = "fuzz_lua_table";
constexpr size_t kMaxValues = 100;

// Counts; never stops a call (the inputs are small).
class CountingMeter : public LuaStepMeter {
 public:
  void ChargeSteps(lua_State* /*state*/, int64_t units) override { units_ += units; }

 private:
  int64_t units_ = 0;
};

lua_State* NewState(LuaStepMeter* meter) {
  return NewCheckState(kTarget, "table", &InstallLuaTableFunctions, meter, kLuaTableCheck);
}

void PushValue(lua_State* state, int kind, uint8_t byte) {
  if (kind == 3) kind = byte % 4 == 3 ? 4 : byte % 3;
  switch (kind) {
    case 0:
      lua_pushinteger(state, byte % 21 - 10);
      break;
    case 1: {
      const char text[3] = {static_cast<char>('a' + byte % 4), static_cast<char>('a' + byte / 64),
                            '\0'};
      lua_pushlstring(state, text, 1 + (byte >> 4) % 3);
      break;
    }
    case 2:
      if (byte == 255) {
        lua_pushnumber(state, std::numeric_limits<double>::quiet_NaN());
      } else if (byte == 254) {
        lua_pushnumber(state, std::numeric_limits<double>::infinity());
      } else if (byte == 253) {
        lua_pushnumber(state, -0.0);
      } else {
        lua_pushnumber(state, (byte % 40 - 20) / 4.0);
      }
      break;
    default:
      lua_pushboolean(state, byte & 1);
      break;
  }
}

std::string Check(lua_State* state, const uint8_t* data, size_t size) {
  const int top = lua_gettop(state);
  lua_getglobal(state, "check_table");
  const int kind = data[1] % 4;
  const size_t n = std::min(size - 2, kMaxValues);
  lua_createtable(state, static_cast<int>(n), 0);
  for (size_t i = 0; i < n; ++i) {
    PushValue(state, kind, data[2 + i]);
    lua_rawseti(state, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_pushinteger(state, data[0]);
  const int group = data[1] >> 2;
  lua_pushinteger(state, group % 2 == 0 ? 0 : group / 2);  // 0: the sorts
  return CallCheck(state, top, 3);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static CountingMeter* meter = new CountingMeter;
  static lua_State* reference = NewState(nullptr);
  static lua_State* ours = NewState(meter);
  if (size < 2) return 0;
  const std::string our_result = Check(ours, data, size);
  const std::string reference_result = Check(reference, data, size);
  if (our_result != reference_result) {
    Fail(kTarget, "results differ", "reference:\n" + reference_result + "\nours:\n" + our_result);
  }
  return 0;
}
