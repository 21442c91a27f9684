#include "services/egress/lua/lua_table_library.h"

#include <chrono>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "common/base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "tests/services/egress/lua/lua_differential.h"
#include "tests/services/egress/lua/lua_table_check.h"

namespace teleclaude::mesh {
namespace {

using ::testing::HasSubstr;

class LuaTableDifferential : public LuaDifferential {
 public:
  LuaTableDifferential() : LuaDifferential(kLuaTableCheck) {}

  // Both sides of check_table(<values>, seed).
  std::pair<std::string, std::string> Check(const std::string& values, int seed) {
    return Both(Cat("return check_table(", values, ", ", seed, ")"));
  }
};

// Lua list literals of `n` random values of the kinds `kinds` picks from.
std::string RandomValues(std::mt19937& random, int n, const std::string& kinds) {
  std::vector<std::string> values;
  for (int i = 0; i < n; ++i) {
    switch (kinds[random() % kinds.size()]) {
      case 'i':
        values.push_back(Cat(static_cast<int>(random() % 21) - 10));
        break;
      case 'f':
        values.push_back(Cat(static_cast<int>(random() % 200) - 100, ".5"));
        break;
      case 's':
        values.push_back(
            LuaQuote(std::string(1 + random() % 3, static_cast<char>('a' + random() % 4))));
        break;
      case 'b':
        values.push_back(random() % 2 ? "true" : "false");
        break;
      default:
        values.push_back("0/0");  // NaN
        break;
    }
  }
  return Cat("{", absl::StrJoin(values, ", "), "}");
}

TEST(LuaTableLibraryTest, SameResultsErrorsAndAccessesAsLuasOwn) {
  LuaTableDifferential lua;
  const std::vector<std::string> fixed = {
      "{}",
      "{1}",
      "{2, 1}",
      "{3, 1, 2}",
      "{5, 5, 5, 5, 5}",
      "{'b', 'a', 'c', 'a'}",
      "{1, 'a'}",
      "{1.5, -2, 3, math.maxinteger, math.mininteger, 0.0, -0.0}",
      "{'x', 'x\\0y', 'x\\0', ''}",
      "{true, false}",
      "{0/0, 1, 0/0}",
  };
  int seed = 1;
  for (const std::string& values : fixed) {
    for (int round = 0; round < 3; ++round) {
      auto [reference, ours] = lua.Check(values, seed++);
      ASSERT_EQ(ours, reference) << values;
    }
  }
  std::mt19937 random(12345);
  for (const std::string kinds : {"i", "f", "s", "if", "is", "ifsbn"}) {
    for (int n : {2, 3, 4, 7, 12, 33, 64, 100}) {
      const std::string values = RandomValues(random, n, kinds);
      auto [reference, ours] = lua.Check(values, seed++);
      ASSERT_EQ(ours, reference) << values;
    }
  }
}

TEST(LuaTableLibraryTest, SortsLargeArraysLikeLua) {
  // Above 100 elements Lua may randomize its pivot, so the order of equal
  // elements can differ; the sorted values cannot.
  LuaTableDifferential lua;
  const std::string chunk = R"(
    local t = {}
    local x = 7
    for i = 1, 5000 do x = (x * 1103515245 + 12345) % 2147483648 t[i] = x % 1000 end
    table.sort(t)
    local u = {}
    for i = 1, 3000 do u[i] = tostring(t[i] % 97) end
    table.sort(u, function(a, b) return a > b end)
    return table.concat(t, ",") .. "|" .. table.concat(u, ","))";
  auto [reference, ours] = lua.Both(chunk);
  EXPECT_EQ(ours, reference);
}

// A meter that records charges and raises once they pass a limit.
class LimitMeter : public LuaStepMeter {
 public:
  explicit LimitMeter(int64_t limit) : limit_(limit) {}
  void ChargeSteps(lua_State* state, int64_t units) override {
    units_ = LuaCostSum(units_, units);
    if (units_ > limit_) luaL_error(state, "budget of %d exceeded", static_cast<int>(limit_));
  }
  int64_t units() const { return units_; }

 private:
  const int64_t limit_;
  int64_t units_ = 0;
};

class LuaTableChargeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = luaL_newstate();
    luaL_openlibs(state_);
    lua_getglobal(state_, "table");
    InstallLuaTableFunctions(state_, -1, &meter_);
    lua_pop(state_, 1);
  }
  void TearDown() override { lua_close(state_); }

  // Runs `chunk`; "" or the error; prints and returns how long it took.
  std::string Run(const std::string& chunk, double* milliseconds = nullptr) {
    const auto start = std::chrono::steady_clock::now();
    std::string error;
    if (luaL_dostring(state_, chunk.c_str()) != LUA_OK) error = lua_tostring(state_, -1);
    lua_settop(state_, 0);
    const double elapsed =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (milliseconds != nullptr) *milliseconds = elapsed;
    return error;
  }

  LimitMeter meter_{1'000'000};
  lua_State* state_ = nullptr;
};

TEST_F(LuaTableChargeTest, SortChargesItsComparisons) {
  EXPECT_EQ(Run("local t = {} for i = 1, 1000 do t[i] = (i * 7919) % 1000 end table.sort(t)"), "");
  // ~n log2 n = 10,000 comparisons.
  EXPECT_GT(meter_.units(), 5'000 * kLuaTableCompareCost);
  EXPECT_LT(meter_.units(), 40'000 * kLuaTableCompareCost);
}

TEST_F(LuaTableChargeTest, RangeLoopsAreRefusedBeforeTheyStart) {
  // Each would loop for hours in Lua's own library, allocating nothing.
  const char* cases[] = {
      "table.move({}, 1, 1e12, 2)",
      "table.insert(setmetatable({}, {__len = function() return 1e12 end}), 1, 0)",
      "table.remove(setmetatable({}, {__len = function() return 1e12 end}), 1)",
      "table.concat(setmetatable({}, {__index = function() return 'x' end}), '', 1, 1e12)",
  };
  for (const char* chunk : cases) {
    double milliseconds = 0;
    EXPECT_THAT(Run(chunk, &milliseconds), HasSubstr("budget of 1000000 exceeded")) << chunk;
    std::cout << chunk << ": stopped after " << milliseconds << " ms\n";
    EXPECT_LT(milliseconds, 1000) << chunk;
    EXPECT_LE(meter_.units(), kMaxLuaCharge);
  }
}

TEST_F(LuaTableChargeTest, RefusedMoveLeavesTheTableAlone) {
  EXPECT_THAT(Run(R"(
    T = {1, 2, 3}
    table.move(T, 1, 200000, 2))"),
              HasSubstr("budget of 1000000 exceeded"));
  EXPECT_EQ(Run("assert(T[2] == 2 and T[4] == nil)"), "");
}

TEST_F(LuaTableChargeTest, ConcatChargesItsBytes) {
  EXPECT_EQ(Run("local t = {} for i = 1, 10 do t[i] = ('x'):rep(16000) end table.concat(t)"), "");
  EXPECT_GE(meter_.units(), 10 * 16000 / kLuaTableCopyBytesPerUnit);
}

}  // namespace
}  // namespace teleclaude::mesh
