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
#include <string>
#include <string_view>

#include "lauxlib.h"
#include "lua.h"
#include "services/egress/lua/lua_pattern.h"
#include "tests/fuzz/lua_differential_fuzz.h"
#include "tests/services/egress/lua/lua_pattern_check.h"

namespace {

using teleclaude::mesh::InstallLuaPatternFunctions;
using teleclaude::mesh::kLuaPatternCheck;
using teleclaude::mesh::LuaStepMeter;
using teleclaude::mesh::fuzz::CallCheck;
using teleclaude::mesh::fuzz::Fail;
using teleclaude::mesh::fuzz::NewCheckState;

constexpr char kTarget[] = "fuzz_lua_pattern";

constexpr size_t kMaxBytes = 64;
constexpr int64_t kStepBudget = 200'000;
constexpr char kOutOfSteps[] = "fuzz: step budget exceeded";

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
  return NewCheckState(kTarget, "string", &InstallLuaPatternFunctions, meter, kLuaPatternCheck);
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
  return CallCheck(state, top, 5);
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
    Fail(kTarget, "results differ",
         "subject: " + std::string(in.subject) + "\npattern: " + std::string(in.pattern) +
             "\nreference:\n" + reference_result + "\nours:\n" + our_result);
  }
  return 0;
}
