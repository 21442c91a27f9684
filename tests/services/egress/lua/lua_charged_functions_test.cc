#include "services/egress/lua/lua_charged_functions.h"

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "common/base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "tests/services/egress/lua/lua_charged_check.h"
#include "tests/services/egress/lua/lua_differential.h"

namespace teleclaude::mesh {
namespace {

using ::testing::HasSubstr;

TEST(LuaChargedFunctionsTest, SameResultsAndErrorsAsLuasOwn) {
  LuaDifferential lua(kLuaChargedCheck);
  struct Case {
    std::string s, u;
    int i, j, n;
  };
  const std::vector<Case> cases = {
      {"hello", "h\u00e9llo \u20ac!", 1, -1, 2},
      {"", "", 1, 0, 0},
      {std::string("a\0b", 3), "\u00e9", 2, 3, 1},
      {"12", "\u20ac\u20ac\u20ac", -2, 100, 3},
      {"ff", "abc", 0, -10, 5},
      {"  3.5e1  ", "\xF0\x9F\x98\x80 x", 3, 2, -1},
  };
  for (const Case& c : cases) {
    const std::string chunk = Cat("return check_charged(", LuaQuote(c.s), ", ", LuaQuote(c.u), ", ",
                                  c.i, ", ", c.j, ", ", c.n, ")");
    auto [reference, ours] = lua.Both(chunk);
    EXPECT_EQ(ours, reference) << chunk;
  }
}

// A sandbox with the default limits (1,000,000 instructions, 50 ms, 8 MiB).
class LuaChargeBoundTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sandbox = LuaSandbox::Create("charged", LuaLimits{});
    ASSERT_TRUE(sandbox.ok()) << sandbox.status();
    sandbox_ = std::move(*sandbox);
  }

  absl::Status Run(const std::string& chunk, double* milliseconds) {
    const auto start = std::chrono::steady_clock::now();
    absl::Status status = sandbox_->LoadAndRun(chunk);
    *milliseconds =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return status;
  }

  std::unique_ptr<LuaSandbox> sandbox_;
};

// One call each that would do work far beyond the budget: refused by its
// charge before doing it (Lua's own: hours for the first, seconds for the
// rest).
TEST_F(LuaChargeBoundTest, HugeCallsAreRefusedBeforeTheyWork) {
  const char* cases[] = {
      "string.rep('', 1e12)",
      "string.rep('x', 1e9)",
      "string.rep('abc', 1e6, ',')",
      "string.format(('%99.99f'):rep(5000), table.unpack({}, 1, 5000))",
      "string.format('%99.99f%99.99f', 1e308, 1e308) for i = 1, 1e9 do end",
      "utf8.char(table.unpack(setmetatable({}, {__index = function() return 0x7FFFFFFF end}),"
      " 1, 200000))",
  };
  for (const char* chunk : cases) {
    double milliseconds = 0;
    absl::Status status = Run(chunk, &milliseconds);
    std::cout << chunk << ": " << status << " after " << milliseconds << " ms\n";
    EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << chunk;
    EXPECT_LT(milliseconds, 1000) << chunk;
  }
}

// Many calls of a few VM instructions each, every one doing a lot of work
// in C: the charges add up to the budget.
TEST_F(LuaChargeBoundTest, LoopsOfExpensiveCallsEndInTheBudget) {
  const char* setup = R"(
    S = ("x"):rep(1000):rep(1000)            -- 1 MB
    U = ("\x80"):rep(1000):rep(200)          -- 200,000 continuation bytes
    D = ("1"):rep(1000):rep(500)              -- 500 KB of digits
  )";
  double milliseconds = 0;
  ASSERT_TRUE(Run(setup, &milliseconds).ok());
  const char* cases[] = {
      "for i = 1, 1e9 do local u = S:upper() end",
      "for i = 1, 1e9 do local r = S:reverse() end",
      "for i = 1, 1e9 do local n = select('#', S:byte(1, 100000)) end",
      "for i = 1, 1e9 do local s = S:sub(2) end",
      "for i = 1, 1e9 do local n = tonumber(D) end",
      "for i = 1, 1e9 do local n = D + 0 end",
      "for i = 1, 1e9 do local n = utf8.len(S) end",
      "local a = 'a' .. U for i = 1, 1e9 do local p = utf8.offset(a, 2) end",
      "local f, s = utf8.codes(U, true) for i = 1, 1e9 do f(s, 0) end",
      "for i = 1, 1e9 do local s = string.format('%s%s', S, S) end",
      "for i = 1, 1e9 do local s = string.format('%.99f', 1e308) end",
      "for i = 1, 1e9 do local s = string.pack('s4', S) end",
      "local p = string.pack('z', S) for i = 1, 1e9 do string.unpack('z', p) end",
      "for i = 1, 1e9 do local e = rawequal(S, S:sub(1)) end",
  };
  for (const char* chunk : cases) {
    absl::Status status = Run(chunk, &milliseconds);
    std::cout << chunk << ": " << status << " after " << milliseconds << " ms\n";
    EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << chunk;
    EXPECT_THAT(status.message(), HasSubstr("exceeded")) << chunk;
    EXPECT_LT(milliseconds, 1000) << chunk;
  }
}

// A meter that counts.
class CountingMeter : public LuaStepMeter {
 public:
  void ChargeSteps(lua_State* /*state*/, int64_t units) override { units_ += units; }
  int64_t units() const { return units_; }

 private:
  int64_t units_ = 0;
};

TEST(LuaChargedFunctionsTest, ChargesFollowTheArguments) {
  lua_State* state = luaL_newstate();
  luaL_openlibs(state);
  CountingMeter meter;
  InstallChargedLuaFunctions(state, &meter);
  auto cost = [&](const char* chunk) {
    const int64_t before = meter.units();
    EXPECT_EQ(luaL_dostring(state, chunk), LUA_OK) << lua_tostring(state, -1);
    lua_settop(state, 0);
    return meter.units() - before;
  };
  EXPECT_EQ(cost("local s = ('x'):rep(1600)"), 1600 + 400);
  EXPECT_EQ(cost("local s = ('ab'):rep(100, ',')"), 100 + 300 / 4);
  EXPECT_EQ(cost("local s = ('x'):rep(0)"), 0);
  EXPECT_EQ(cost("local b = ('abcdef'):byte(2, 4)"), 3 * 2);
  EXPECT_EQ(cost("local u = ('x'):rep(100):upper()"), 100 + 25 + 50);
  // 1 + format bytes / 4 + items; 1e308 has 309 digits before the point,
  // 99 after.
  EXPECT_EQ(cost("local f = string.format('%.99f', 1e308)"), 1 + 1 + 64 + 24 * (99 + 309));
  EXPECT_EQ(cost("local f = string.format('%d %5.2f', 3, 2.5)"), 1 + 2 + 32 + 64 + 24 * 3 + 10);
  EXPECT_EQ(cost("local c = utf8.char(65, 66, 67)"), 3 * 32);
  EXPECT_EQ(cost("for p, c in utf8.codes('h\u00e9') do end"), 3 + 1);  // 3 steps, 1 skipped
  EXPECT_EQ(cost("local m = math.max(1, 2, 3, 4)"), 4);
  lua_close(state);
}

}  // namespace
}  // namespace teleclaude::mesh
