// Differential testing of the sandbox's replacements of Lua's library
// functions (lua_pattern.h, lua_table_library.h, lua_charged_functions.h):
// the same chunk runs in a plain Lua state with Lua's own libraries (the
// reference) and in a LuaSandbox with budgets too large to matter, and the
// printed results must be the same. Thread-compatible.
#ifndef TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_LUA_LUA_DIFFERENTIAL_H_
#define TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_LUA_LUA_DIFFERENTIAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "common/base/strings.h"
#include "gtest/gtest.h"
#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "services/egress/lua/lua_sandbox.h"

namespace teleclaude::mesh {

// A Lua string literal of any bytes.
inline std::string LuaQuote(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += Cat("\\", c / 100, (c / 10) % 10, c % 10);
    }
  }
  return out + "\"";
}

class LuaDifferential {
 public:
  // Runs `setup` (a chunk defining the check functions) on both sides.
  explicit LuaDifferential(std::string_view setup) {
    reference_ = luaL_newstate();
    luaL_openlibs(reference_);
    LuaLimits limits;
    limits.instructions = int64_t{1} << 50;
    limits.wall_time = absl::Seconds(60);
    limits.memory_bytes = 256 << 20;
    sandbox_ = std::move(LuaSandbox::Create("differential", limits).value());
    EXPECT_EQ(InReference(setup), "");
    EXPECT_EQ(InSandbox(setup), "");
  }
  ~LuaDifferential() { lua_close(reference_); }
  LuaDifferential(const LuaDifferential&) = delete;
  LuaDifferential& operator=(const LuaDifferential&) = delete;

  // The chunk's first result as text (or "" / "compile error: ..." /
  // "error: ...").
  std::string InReference(std::string_view chunk) {
    const int top = lua_gettop(reference_);
    std::string out = Evaluate(reference_, chunk, /*protect=*/true);
    lua_settop(reference_, top);
    return out;
  }
  std::string InSandbox(std::string_view chunk) {
    std::string out;
    absl::Status status = sandbox_->Run([&](lua_State* state) {
      out = Evaluate(state, chunk, /*protect=*/false);
      return absl::OkStatus();
    });
    return status.ok() ? out : Cat("error: ", status.message());
  }
  // {reference, sandbox}.
  std::pair<std::string, std::string> Both(std::string_view chunk) {
    return {InReference(chunk), InSandbox(chunk)};
  }

  LuaSandbox& sandbox() { return *sandbox_; }

 private:
  static std::string Evaluate(lua_State* state, std::string_view chunk, bool protect) {
    if (luaL_loadbufferx(state, chunk.data(), chunk.size(), "=case", "t") != LUA_OK) {
      return Cat("compile error: ", lua_tostring(state, -1));
    }
    if (protect) {
      if (lua_pcall(state, 0, 1, 0) != LUA_OK) return Cat("error: ", lua_tostring(state, -1));
    } else {
      lua_call(state, 0, 1);
    }
    size_t size = 0;
    const char* text = lua_tolstring(state, -1, &size);
    return text == nullptr ? "" : std::string(text, size);
  }

  lua_State* reference_;
  std::unique_ptr<LuaSandbox> sandbox_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_LUA_LUA_DIFFERENTIAL_H_
