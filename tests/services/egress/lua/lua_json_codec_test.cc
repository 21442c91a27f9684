#include "services/egress/lua/lua_json_codec.h"

#include <memory>
#include <string>

#include "common/base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lauxlib.h"
#include "lua.h"
#include "services/egress/lua/lua_sandbox.h"

namespace teleclaude::mesh {
namespace {

using ::testing::HasSubstr;

class LuaJsonCodecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sandbox = LuaSandbox::Create("codec", LuaLimits{});
    ASSERT_TRUE(sandbox.ok()) << sandbox.status();
    sandbox_ = std::move(*sandbox);
    ASSERT_TRUE(sandbox_
                    ->Run([](lua_State* state) {
                      LuaJsonCodec::OpenLibrary(state);
                      return absl::OkStatus();
                    })
                    .ok());
  }

  // JSON text -> Lua -> (optional Lua function `change(v)`) -> JSON text.
  absl::StatusOr<std::string> RoundTrip(std::string_view json, std::string_view change = "",
                                        size_t max_bytes = 1 << 20) {
    std::string out;
    absl::Status status = sandbox_->Run([&](lua_State* state) -> absl::Status {
      LuaJsonCodec codec(state, max_bytes);
      if (!change.empty()) {
        std::string source = Cat("return function(v) ", change, " end");
        if (luaL_loadbufferx(state, source.data(), source.size(), "=change", "t") != LUA_OK) {
          return absl::InternalError(lua_tostring(state, -1));
        }
        lua_call(state, 0, 1);
      }
      absl::Status pushed = codec.Push(json, "value");
      if (!pushed.ok()) return pushed;
      if (!change.empty()) lua_call(state, 1, 1);
      absl::Status appended = codec.Append(-1, "value", &out);
      codec.Release();
      return appended;
    });
    if (!status.ok()) return status;
    return out;
  }

  std::unique_ptr<LuaSandbox> sandbox_;
};

TEST_F(LuaJsonCodecTest, RoundTripsCanonicalTextExactly) {
  const char* texts[] = {
      R"({"z":1,"a":2,"m":{"y":[],"x":{}}})",
      R"([1,-2,0,9223372036854775807,-9223372036854775808])",
      R"([18446744073709551616,-9223372036854775809,123456789012345678901234567890])",
      R"({"big":123456789012345678901234567890,"list":[99999999999999999999]})",
      R"([1.0,-0.0,0.5,1e-7,1.5e+300,0.1,100.0])",
      R"([NaN,Infinity,-Infinity])",
      R"({"s":"\u0000 \"q\" \\ \n é 😀","t":true,"f":false,"n":null})",
      R"([[],[[]],{},[{}],[null,null]])",
      R"("just a string")",
      R"(42)",
  };
  for (const char* text : texts) {
    absl::StatusOr<std::string> out = RoundTrip(text);
    ASSERT_TRUE(out.ok()) << text << ": " << out.status();
    EXPECT_EQ(*out, text);
  }
}

TEST_F(LuaJsonCodecTest, NewKeysFollowOriginalOnesInByteOrder) {
  EXPECT_EQ(RoundTrip(R"({"z":1,"a":2})", "v.m = 3 v.b = 4 v.z = nil return v").value(),
            R"({"a":2,"b":4,"m":3})");
  EXPECT_EQ(RoundTrip("{}", "return {c = 1, b = {2, 3}, a = {}}").value(),
            R"({"a":{},"b":[2,3],"c":1})");
}

TEST_F(LuaJsonCodecTest, BigIntegersAreExactStringsAndGoBackAsNumbersOnlyWhenUnchanged) {
  EXPECT_EQ(RoundTrip(R"({"b":123456789012345678901234})", "v.t = type(v.b) v.copy = v.b return v")
                .value(),
            R"({"b":123456789012345678901234,"copy":"123456789012345678901234","t":"string"})");
  EXPECT_EQ(RoundTrip(R"([123456789012345678901234])", "v[1] = v[1] .. '5' return v").value(),
            R"(["1234567890123456789012345"])");
}

TEST_F(LuaJsonCodecTest, NumbersKeepTheirKind) {
  EXPECT_EQ(RoundTrip("[3, 3.0]", "return {v[1] // 1, v[2] // 1, v[1] / 1, 2^53, 7 // 2}").value(),
            "[3,3.0,3.0,9007199254740992.0,3]");
}

TEST_F(LuaJsonCodecTest, RefusesWhatIsNotJson) {
  EXPECT_THAT(RoundTrip("{}", "return {a = {b = {print}}}").status().message(),
              HasSubstr("value.a.b[1]: cannot convert a function to JSON"));
  EXPECT_THAT(RoundTrip("{}", "v.x = v return v").status().message(),
              HasSubstr("cyclic table at value.x"));
  EXPECT_THAT(RoundTrip("{}", "return {[0] = 1}").status().message(),
              HasSubstr("value: key 0 is not a string"));
  EXPECT_THAT(RoundTrip("{}", "return {[2] = 1}").status().message(),
              HasSubstr("value: integer keys must be 1..n without holes"));
  EXPECT_THAT(RoundTrip("{}", "return {['\\xc3'] = 1}").status().message(),
              HasSubstr("value.\xc3: key is not valid UTF-8"));
}

TEST_F(LuaJsonCodecTest, SharedTablesAreFineButTheirExpansionIsBounded) {
  EXPECT_EQ(RoundTrip("{}", "local s = {1} return {a = s, b = s}").value(), R"({"a":[1],"b":[1]})");
  // 2^40 leaves: stops at max_bytes instead of running for ever.
  absl::StatusOr<std::string> out =
      RoundTrip("{}", "local a = {} for i = 1, 40 do a = {a, a} end return a", 1 << 16);
  EXPECT_THAT(out.status().message(), HasSubstr("the JSON text exceeds 65536 bytes"));
}

TEST_F(LuaJsonCodecTest, BadTextIsAnError) {
  EXPECT_THAT(RoundTrip("{\"a\":").status().message(), HasSubstr("value: not valid JSON for Lua"));
  // A NUL byte is not the end of the text (RapidJSON's stream would say so).
  EXPECT_THAT(RoundTrip(std::string("[1]\0[", 5)).status().message(),
              HasSubstr("value: not valid JSON: a NUL byte at offset 3"));
}

}  // namespace
}  // namespace teleclaude::mesh
