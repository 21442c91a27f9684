#include "services/egress/lua/lua_pattern.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "services/egress/lua/lua_sandbox.h"
#include "tests/services/egress/lua/lua_differential.h"
#include "tests/services/egress/lua/lua_pattern_check.h"
#include "tests/support/thread_cpu.h"

namespace teleclaude::mesh {
namespace {

// A case: Lua expressions for subject, pattern, init, replacement and n.
struct PatternCase {
  std::string subject;
  std::string pattern;
  std::string init = "nil";
  std::string repl = "'<%0>'";
  std::string n = "nil";
};

std::string Describe(const PatternCase& c) {
  return Cat("s=", c.subject, " p=", c.pattern, " init=", c.init, " repl=", c.repl, " n=", c.n);
}

// The pattern functions of Lua's string library and the sandbox's.
class LuaPatternDifferential : public LuaDifferential {
 public:
  LuaPatternDifferential() : LuaDifferential(kLuaPatternCheck) {}

  // Both sides of check(<case>).
  std::pair<std::string, std::string> Check(const PatternCase& c) {
    return Both(Cat("return check(", c.subject, ", ", c.pattern, ", ", c.init, ", ", c.repl, ", ",
                    c.n, ")"));
  }
};

const std::vector<PatternCase>& Cases() {
  static const auto* cases = new std::vector<PatternCase>{
      // Plain characters, classes, sets.
      {"'hello world'", "'o w'"},
      {"'hello world'", "'o'", "5"},
      {"'hello world'", "'l+'"},
      {"'a.b*c'", "'.'"},
      {"'a.b*c'", "'%.b%*'"},
      {"'key = value'", "'(%w+)%s*=%s*(%w+)'", "nil", "'%2=%1'"},
      {"'x=1, y=22, z=333'", "'(%a)=(%d+)'", "nil", "'%1:%2'"},
      {"'MiXeD 123 _!? \\t\\n'", "'%a+'"},
      {"'MiXeD 123 _!? \\t\\n'", "'%A+'"},
      {"'MiXeD 123 _!? \\t\\n'", "'%l%u'"},
      {"'MiXeD 123 _!? \\t\\n'", "'%p+'"},
      {"'MiXeD 123 _!? \\t\\n'", "'%s+'"},
      {"'MiXeD 123 _!? \\t\\n'", "'%S+'"},
      {"'MiXeD 123 _!? \\t\\n'", "'%c'"},
      {"'MiXeD 123 _!? \\t\\n'", "'%g+'"},
      {"'0x1F ab'", "'%x+'"},
      {"'0x1F ab'", "'%W'"},
      {"'abc]def'", "'[]]'"},
      {"'abc]def'", "'[^]]+'"},
      {"'a-b-c'", "'[a-]+'"},
      {"'a-b-c'", "'[-a]+'"},
      {"'abcxyz019'", "'[a-c%d]+'"},
      {"'abcxyz019'", "'[^a-c%d]+'"},
      {"'a%b%%c'", "'[%%]+'"},
      {"'a^b'", "'[%^b]+'"},
      {"'a^b'", "'[b^]+'"},
      {"'ab'", "'[a-%d]'"},
      {"'xyz'", "'[z-x]'"},
      // Repetitions and backtracking.
      {"'aaab'", "'a*b'"},
      {"'aaab'", "'a-b'"},
      {"'aaab'", "'a-'"},
      {"'aaab'", "'a?a?a?b'"},
      {"'<a><b>'", "'<(.-)>'"},
      {"'<a><b>'", "'<(.*)>'"},
      {"'aaa'", "'a+a'"},
      {"'ab'", "'b*'"},
      {"'abc'", "'.-$'"},
      {"'abc'", "'.-c$'"},
      {"'a$b'", "'a$b'"},
      {"'a$'", "'$'"},
      {"'a$'", "'%$'"},
      // Anchors, also with gmatch (a literal '^' there) and gsub.
      {"'aaa'", "'^a'"},
      {"'^aa^a'", "'^a'"},
      {"'baa'", "'^a'"},
      {"'aaa'", "'^a*$'"},
      {"''", "'^$'"},
      {"'abc'", "'^'", "nil", "'>'"},
      {"'abc'", "'$'", "nil", "'<'"},
      {"'abc'", "'^(.)'", "2"},
      // Empty matches advance by one; gsub/gmatch skip an empty match where
      // the last match ended.
      {"'abc'", "''", "nil", "'-'"},
      {"''", "''", "nil", "'-'"},
      {"'abc'", "'x*'", "nil", "'-'"},
      {"'hello world'", "'%w*'", "nil", "'<%0>'"},
      {"'a,b,,c'", "'[^,]*'", "nil", "'[%0]'"},
      {"'abc'", "'()'", "nil", "'%1'"},
      // Captures, position captures, back references.
      {"'hello'", "'()ll()'"},
      {"'hello'", "'(h)(e)(l)(l)(o)'", "nil", "'%5%4%3%2%1'"},
      {"'hello'", "'()'", "3"},
      {"'say \"hi\" and \"bye\"'", "'([\"\\'])(.-)%1'", "nil", "'%2'"},
      {"'aa'", "'()%1'"},
      {"'abab'", "'(ab)%1'"},
      {"'abab'", "'((a)b)%2'"},
      {"'xyz'", "'(x)(y)(z)'", "nil", "'%0%3'"},
      {"'abc'", "'a(b(c))'"},
      {"'abc'", "'(a)()(b)'", "nil", "'%2'"},
      // %b and %f.
      {"'f(a(b)c) g(d)'", "'%b()'"},
      {"'f(a(b)c g(d)'", "'%b()'"},
      {"'[[x]] ]'", "'%b[]'", "nil", "''"},
      {"'xaybx'", "'%bxy'"},
      {"'aaa'", "'%baa'"},
      {"'THE (quick) fox'", "'%f[%a]%a+'", "nil", "'<%0>'"},
      {"'THE (quick) fox'", "'%f[%A]'", "nil", "'|'"},
      {"'hello'", "'%f[%z]'"},
      {"'hello'", "'%f[%Z]'"},
      {"'hello'", "'%f[%l]'"},
      {"'hello'", "'%f[^%l]'"},
      {"'ab cd'", "'%f[%w]%w+%f[%W]'"},
      {"''", "'%f[%z]'"},
      {"''", "'%f[^%z]'"},
      // Bytes: NUL and UTF-8.
      {"'a\\0b\\0c'", "'\\0'"},
      {"'a\\0b\\0c'", "'%z'", "nil", "'0'"},
      {"'a\\0b\\0c'", "'[%z]'"},
      {"'a\\0b\\0c'", "'[\\0]+'"},
      {"'a\\0b\\0c'", "'[^\\0]+'"},
      {"'a\\0b'", "'a\\0b'"},
      {"'a\\0b'", "'a\\0.'"},
      {"'h\\xC3\\xA9llo w\\xC3\\xB6rld'", "'[\\xC3][\\x80-\\xBF]'", "nil", "'?'"},
      {"'h\\xC3\\xA9llo w\\xC3\\xB6rld'", "utf8.charpattern"},
      {"'h\\xC3\\xA9llo w\\xC3\\xB6rld'", "'[\\x80-\\xFF]+'"},
      {"'\\xFF\\xFE\\x80'", "'[\\x7F-\\xFF]+'"},
      {"'\\xFF\\xFE\\x80'", "'%a'"},
      {"'\\xFF\\xFE\\x80'", "'.'", "-1"},
      // init: negative, zero, past the end, huge, float.
      {"'hello'", "'l'", "-2"},
      {"'hello'", "'l'", "-100"},
      {"'hello'", "'l'", "0"},
      {"'hello'", "''", "5"},
      {"'hello'", "''", "6"},
      {"'hello'", "''", "7"},
      {"'hello'", "'o$'", "5"},
      {"'hello'", "'x*'", "6"},
      {"'hello'", "'l'", "math.maxinteger"},
      {"'hello'", "'l'", "math.mininteger"},
      {"'hello'", "'l'", "2.0"},
      {"'hello'", "'l'", "2.5"},
      {"'hello'", "'l'", "'3'"},
      {"'hello'", "'l'", "'x'"},
      {"'hello'", "'l'", "{}"},
      // gsub replacements and n.
      {"'hello world'", "'o'", "nil", "'0'"},
      {"'hello world'", "'o'", "nil", "'%%'"},
      {"'hello world'", "'o'", "nil", "'%'"},
      {"'hello world'", "'o'", "nil", "'%x'"},
      {"'hello world'", "'o'", "nil", "'%1'"},
      {"'hello world'", "'(o)'", "nil", "'%2'"},
      {"'hello world'", "'o'", "nil", "'%0%0'", "1"},
      {"'hello world'", "'o'", "nil", "'%0%0'", "0"},
      {"'hello world'", "'o'", "nil", "'%0%0'", "-1"},
      {"'hello world'", "'o'", "nil", "'%0%0'", "2.0"},
      {"'hello world'", "'o'", "nil", "'%0%0'", "2.5"},
      {"'hello world'", "'o'", "nil", "'%0%0'", "'1'"},
      {"'hello world'", "'o'", "nil", "42"},
      {"'hello world'", "'o'", "nil", "4.5"},
      {"'hello world'", "'%w+'", "nil", "{hello = 'HI', world = false}"},
      {"'hello world'", "'(%w)(%w*)'", "nil", "{h = 1, w = 2.5}"},
      {"'hello world'", "'%w+'", "nil", "{hello = {}}"},
      {"'hello world'", "'()%w+'", "nil", "{[1] = 'one', [7] = 'seven'}"},
      {"'hello world'", "'%w+'", "nil", "string.upper"},
      {"'hello world'", "'(%w)(%w*)'", "nil", "function(a, b) return b .. a end"},
      {"'hello world'", "'%w+'", "nil", "function() return false end"},
      {"'hello world'", "'%w+'", "nil", "function() return nil end"},
      {"'hello world'", "'%w+'", "nil", "function() return true end"},
      {"'hello world'", "'%w+'", "nil", "function(w) error('no ' .. w) end"},
      {"'hello world'", "'%w+'", "nil", "function(w) return #w end"},
      {"'hello world'", "'()(%w+)()'", "nil", "function(a, w, b) return a .. w .. b end"},
      {"'abc'", "'%w'", "nil", "function(c) return c:gsub('.', '%0%0') end"},
      {"'hello world'", "'o'", "nil", "true"},
      {"'hello world'", "'o'", "nil", "nil"},
      // Arguments that are numbers or the wrong type.
      {"12345", "3"},
      {"123.5", "'%.'"},
      {"nil", "'a'"},
      {"'a'", "nil"},
      {"{}", "'a'"},
      // Malformed patterns.
      {"'abc'", "'a%'"},
      {"'abc'", "'%'"},
      {"'abc'", "'[a'"},
      {"'abc'", "'[a%'"},
      {"'abc'", "'[a%]'"},
      {"'abc'", "'['"},
      {"'abc'", "'[^'"},
      {"'abc'", "'[]'"},
      {"'abc'", "'%f'"},
      {"'abc'", "'%fa'"},
      {"'abc'", "'%f[a'"},
      {"'abc'", "'%b'"},
      {"'abc'", "'%ba'"},
      {"'abc'", "'(a'"},
      {"'abc'", "'a)'"},
      {"'abc'", "'%1'"},
      {"'abc'", "'(a%1)'"},
      {"'abc'", "'(a)%2'"},
      {"'abc'", "'%0'"},
      {"'abc'", "'x%'"},
      {"'abc'", "'(()'"},
      {"'abc'", "'(a)(b'"},
      // The limits: 32 captures, recursion depth 200.
      {"('a'):rep(40)", "('(a)'):rep(32)"},
      {"('a'):rep(40)", "('(a)'):rep(33)"},
      {"('a'):rep(40)", "('()'):rep(32)"},
      {"('a'):rep(40)", "('()'):rep(33)"},
      {"('a'):rep(300)", "('a?'):rep(150)"},
      {"('a'):rep(300)", "('a?'):rep(250)"},
      {"('a'):rep(300)", "('a*'):rep(199)"},
      {"('a'):rep(300)", "('a*'):rep(200)"},
      {"('a'):rep(300)", "('('):rep(32)"},
      {"('a'):rep(300)", "('a-'):rep(199) .. '$'"},
      {"('x'):rep(500)", "('(x'):rep(30) .. (')'):rep(30)"},
      {"('x'):rep(10)", "'.-.-.-.-.-y'"},
  };
  return *cases;
}

TEST(LuaPatternTest, ReplacementsBehaveExactlyLikeLuasOwn) {
  LuaPatternDifferential lua;
  for (const PatternCase& c : Cases()) {
    auto [reference, ours] = lua.Check(c);
    ASSERT_THAT(reference, ::testing::Not(::testing::HasSubstr("compile error"))) << Describe(c);
    EXPECT_EQ(ours, reference) << Describe(c);
  }
}

TEST(LuaPatternTest, ReplacementsAreTheStringFunctionsAndMethods) {
  LuaPatternDifferential lua;
  EXPECT_EQ(lua.InSandbox(R"(
    return tostring(getmetatable("").__index == string) .. " " ..
           tostring(("x").gsub == string.gsub))"),
            "true true");
  for (const char* name : {"find", "match", "gmatch", "gsub"}) {
    // Error messages name the function the same way.
    const std::string call = Cat("return select(2, pcall(string.", name, "))");
    EXPECT_EQ(lua.InSandbox(call), lua.InReference(call)) << name;
    const std::string method =
        Cat("return select(2, pcall(function() return ('x'):", name, "() end))");
    EXPECT_EQ(lua.InSandbox(method), lua.InReference(method)) << name;
  }
}

// Random patterns from a vocabulary of every feature, on short subjects.
TEST(LuaPatternTest, RandomPatternsBehaveExactlyLikeLuasOwn) {
  LuaPatternDifferential lua;
  const std::vector<std::string_view> pieces = {
      "a",  "b",  "x",  ".",    "%a",   "%d",          "%s",     "%w",    "%p",
      "%x", "%u", "%A", "%",    "%%",   "[ab]",        "[^a]",   "[a-c]", "[%a_]",
      "[]", "[",  "]",  "^",    "$",    "(",           ")",      "()",    "*",
      "+",  "?",  "-",  "%b()", "%bab", "%f[%w]",      "%f[%W]", "%f[a]", "%1",
      "%2", "%0", "%z", "\\0",  "\xC3", "[\x80-\xBF]", "(a)",    "(.-)",  "(%w+)",
      ".-", ".*", "a*", "b+",   "%(",   "%)"};
  const std::string_view subject_bytes("aab()[]%-.1 x\0\xC3\xA9\tA", 18);
  std::mt19937 random(20250301);
  auto below = [&](size_t n) { return static_cast<size_t>(random() % n); };
  for (int i = 0; i < 20000; ++i) {
    std::string subject;
    for (size_t k = below(14); k > 0; --k) subject.push_back(subject_bytes[below(18)]);
    std::string pattern;
    for (size_t k = below(7); k > 0; --k) pattern += pieces[below(pieces.size())];
    PatternCase c{LuaQuote(subject), Cat("\"", pattern, "\"")};
    if (below(3) == 0) c.init = std::to_string(static_cast<int>(below(24)) - 8);
    c.repl = Cat("REPLS[", 1 + below(11), "]");
    if (below(4) == 0) c.n = std::to_string(below(4));
    auto [reference, ours] = lua.Check(c);
    ASSERT_THAT(reference, ::testing::Not(::testing::HasSubstr("compile error"))) << Describe(c);
    ASSERT_EQ(ours, reference) << Describe(c);
  }
}

// ---------------------------------------------------------------------------
// Limits: a backtracking pattern ends with the limit error.

struct Backtracking {
  std::string name;
  std::string call;  // a Lua expression calling a pattern function
};

const std::vector<Backtracking>& BacktrackingCalls() {
  static const auto* calls = new std::vector<Backtracking>{
      {"find_stars", R"lua(("a"):rep(5000):find(("a*"):rep(3) .. "b"))lua"},
      {"find_lazy", R"lua(string.rep("a", 1e6):find(".-b"))lua"},
      {"match_stars", R"lua(("a"):rep(5000):match(("a*"):rep(3) .. "b"))lua"},
      {"match_lazy", R"lua(string.match(string.rep("a", 1e6), ".-b"))lua"},
      {"gmatch_stars", R"lua(("a"):rep(5000):gmatch(("a*"):rep(3) .. "b")())lua"},
      {"gmatch_lazy", R"lua(string.gmatch(string.rep("a", 1e6), ".-b")())lua"},
      {"gsub_stars", R"lua(("a"):rep(5000):gsub(("a*"):rep(3) .. "b", ""))lua"},
      {"gsub_lazy", R"lua(string.rep("a", 1e6):gsub(".-b", "x"))lua"},
      {"balance", R"lua(("("):rep(1e5):find("%b()"))lua"},
      {"back_reference", R"lua(("a"):rep(20000):find("(a*)%1b"))lua"},
      {"pcall_swallow", R"lua(pcall(string.find, ("a"):rep(5000), ("a*"):rep(3) .. "b") and
                           ("a"):rep(5000):find(("a*"):rep(3) .. "b"))lua"},
  };
  return *calls;
}

absl::Status RunChunk(LuaSandbox& sandbox, const std::string& chunk) {
  return sandbox.Run([&](lua_State* state) -> absl::Status {
    if (luaL_loadbufferx(state, chunk.data(), chunk.size(), "=case", "t") != LUA_OK) {
      return absl::InternalError(lua_tostring(state, -1));
    }
    lua_call(state, 0, 0);
    return absl::OkStatus();
  });
}

void ExpectNormalCallWorks(LuaSandbox& sandbox) {
  EXPECT_TRUE(RunChunk(sandbox, R"(
    local s = ('{"k":"v","n":12}'):rep(10)
    assert(s:find('"n":(%d+)') == 10)
    assert(select(2, s:gsub('%d+', 'N')) == 10)
  )")
                  .ok());
}

class LuaPatternLimitTest : public ::testing::TestWithParam<Backtracking> {};

TEST_P(LuaPatternLimitTest, InstructionBudgetEndsItQuickly) {
  LuaLimits limits;
  limits.wall_time = absl::Seconds(10);  // the instruction budget is what is tested
  auto sandbox = LuaSandbox::Create("backtrack", limits);
  ASSERT_TRUE(sandbox.ok()) << sandbox.status();
  ExpectNormalCallWorks(**sandbox);
  const double cpu_start = testing::ThreadCpuMilliseconds();
  absl::Status status =
      RunChunk(**sandbox, Cat("local r = ", GetParam().call, " while true do end"));
  EXPECT_LT(testing::ThreadCpuMilliseconds() - cpu_start, 500);
  EXPECT_EQ(status, absl::ResourceExhaustedError("instruction budget of 1000000 exceeded"));
  EXPECT_TRUE((*sandbox)->needs_rebuild());
  ExpectNormalCallWorks(**sandbox);
}

TEST_P(LuaPatternLimitTest, WallTimeEndsItQuickly) {
  LuaLimits limits;
  limits.instructions = int64_t{1} << 50;
  limits.wall_time = absl::Milliseconds(30);
  auto sandbox = LuaSandbox::Create("backtrack", limits);
  ASSERT_TRUE(sandbox.ok()) << sandbox.status();
  const double cpu_start = testing::ThreadCpuMilliseconds();
  absl::Status status = RunChunk(**sandbox, Cat("local r = ", GetParam().call));
  EXPECT_LT(testing::ThreadCpuMilliseconds() - cpu_start, 500);
  EXPECT_EQ(status, absl::ResourceExhaustedError("wall-time budget of 30ms exceeded"));
  EXPECT_TRUE((*sandbox)->needs_rebuild());
  ExpectNormalCallWorks(**sandbox);
}

INSTANTIATE_TEST_SUITE_P(Backtracking, LuaPatternLimitTest,
                         ::testing::ValuesIn(BacktrackingCalls()),
                         [](const ::testing::TestParamInfo<Backtracking>& info) {
                           return info.param.name;
                         });

// The steps of many small calls add up: they are charged when each returns.
TEST(LuaPatternTest, StepsOfShortCallsAreCharged) {
  LuaLimits limits;
  limits.instructions = 200'000;
  limits.wall_time = absl::Seconds(10);
  auto sandbox = LuaSandbox::Create("short", limits);
  ASSERT_TRUE(sandbox.ok()) << sandbox.status();
  // Each call: ~3000 matcher steps, a handful of VM instructions.
  absl::Status status = RunChunk(**sandbox, R"(
    local s = ("a"):rep(40)
    for i = 1, 200 do s:find(("a*"):rep(2) .. "b") end
  )");
  EXPECT_EQ(status, absl::ResourceExhaustedError("instruction budget of 200000 exceeded"));
}

// A meter that counts.
class CountingMeter : public LuaStepMeter {
 public:
  void ChargeSteps(lua_State* /*state*/, int64_t steps) override {
    ++charges_;
    steps_ += steps;
  }
  int64_t steps() const { return steps_; }
  int64_t charges() const { return charges_; }

 private:
  int64_t steps_ = 0;
  int64_t charges_ = 0;
};

TEST(LuaPatternTest, MeterGetsEveryStepInChunks) {
  lua_State* state = luaL_newstate();
  luaL_openlibs(state);
  CountingMeter meter;
  lua_getglobal(state, "string");
  InstallLuaPatternFunctions(state, -1, &meter);
  lua_pop(state, 1);
  const char* chunk = R"(
    assert(("a"):rep(300):find("a*a*b") == nil)
    assert(("abc"):find("b") == 2)  -- plain: no steps
  )";
  ASSERT_EQ(luaL_dostring(state, chunk), LUA_OK) << lua_tostring(state, -1);
  // 300 starts, each expanding the first a* (n singlematches), then trying
  // every split of the second: well above one charge of steps.
  EXPECT_GT(meter.steps(), 300 * 300 / 2);
  EXPECT_GE(meter.charges(), meter.steps() / kLuaPatternStepsPerCharge);
  EXPECT_LE(meter.charges(), meter.steps() / kLuaPatternStepsPerCharge + 1);
  lua_close(state);
}

}  // namespace
}  // namespace teleclaude::mesh
