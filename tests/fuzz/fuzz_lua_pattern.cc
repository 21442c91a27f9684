// libFuzzer target: the metered pattern functions (lua_pattern.h) against
// Lua's own string library on arbitrary subjects and patterns (up to 64
// bytes each), through every function of lua_pattern_check.h's check():
// the printed results and errors must be the same. Any difference aborts.
//
// Input: byte 0 picks init (bit 0: given; bits 1-7: -16..111), byte 1 the
// replacement (REPLS), byte 2 gsub's n (0-3, else nil), byte 3 where the
// rest splits into subject and pattern.
//
// Even 64 bytes can make a pattern that backtracks for ages (("a*"):rep(32)
// on 64 "a"s). Our side runs first with a step budget; when it runs out,
// the input is skipped: the reference would do at least as many steps.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "services/egress/lua/lua_pattern.h"
#include "tests/services/egress/lua/lua_pattern_check.h"

namespace {

using teleclaude::mesh::InstallLuaPatternFunctions;
using teleclaude::mesh::kLuaPatternCheck;
using teleclaude::mesh::LuaStepMeter;

constexpr size_t kMaxBytes = 64;
constexpr int64_t kStepBudget = 200'000;
constexpr char kOutOfSteps[] = "fuzz: step budget exceeded";

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_lua_pattern: %s\n%s\n", what, detail.c_str());
  std::abort();
}

class BudgetMeter : public LuaStepMeter {
 public:
  void ChargeSteps(lua_State* state, int64_t steps) override {
    steps_ += steps;
    if (steps_ > kStepBudget) {
      out_of_steps_ = true;
      luaL_error(state, "%s", kOutOfSteps);
    }
  }
  void Reset() {
    steps_ = 0;
    out_of_steps_ = false;
  }
  bool out_of_steps() const { return out_of_steps_; }

 private:
  int64_t steps_ = 0;
  bool out_of_steps_ = false;
};

lua_State* NewState(LuaStepMeter* meter) {
  lua_State* state = luaL_newstate();
  luaL_openlibs(state);
  if (meter != nullptr) {
    lua_getglobal(state, "string");
    InstallLuaPatternFunctions(state, -1, meter);
    lua_pop(state, 1);
  }
  if (luaL_dostring(state, kLuaPatternCheck) != LUA_OK) Fail("driver", lua_tostring(state, -1));
  return state;
}

struct Input {
  std::string_view subject, pattern;
  bool has_init;
  int init;
  int repl;
  int n;  // < 0: nil
};

std::string Check(lua_State* state, const Input& in) {
  const int top = lua_gettop(state);
  lua_getglobal(state, "check");
  lua_pushlstring(state, in.subject.data(), in.subject.size());
  lua_pushlstring(state, in.pattern.data(), in.pattern.size());
  if (in.has_init) {
    lua_pushinteger(state, in.init);
  } else {
    lua_pushnil(state);
  }
  lua_getglobal(state, "REPLS");
  lua_rawgeti(state, -1, in.repl);
  lua_remove(state, -2);
  if (in.n >= 0) {
    lua_pushinteger(state, in.n);
  } else {
    lua_pushnil(state);
  }
  std::string out;
  if (lua_pcall(state, 5, 1, 0) != LUA_OK) out = "error: ";
  size_t size = 0;
  const char* text = lua_tolstring(state, -1, &size);
  if (text != nullptr) out.append(text, size);
  lua_settop(state, top);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static BudgetMeter* meter = new BudgetMeter;
  static lua_State* reference = NewState(nullptr);
  static lua_State* ours = NewState(meter);
  if (size < 4) return 0;
  Input in;
  in.has_init = (data[0] & 1) != 0;
  in.init = (data[0] >> 1) - 16;
  in.repl = 1 + data[1] % 11;
  in.n = data[2] < 4 ? data[2] : -1;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 4, size - 4);
  const size_t split = data[3] % (rest.size() + 1);
  in.subject = rest.substr(0, split).substr(0, kMaxBytes);
  in.pattern = rest.substr(split).substr(0, kMaxBytes);

  meter->Reset();
  const std::string our_result = Check(ours, in);
  if (meter->out_of_steps()) return 0;
  const std::string reference_result = Check(reference, in);
  if (our_result != reference_result) {
    Fail("results differ", "subject: " + std::string(in.subject) +
                               "\npattern: " + std::string(in.pattern) + "\nreference:\n" +
                               reference_result + "\nours:\n" + our_result);
  }
  return 0;
}
