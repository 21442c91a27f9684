// A sandboxed Lua 5.4 state for one cartridge (issue 7 §2): only safe
// libraries, text chunks only, and per-call limits on instructions, wall time
// and memory.
//
// Libraries: base without load, loadfile, dofile, collectgarbage and warn
// (`require`, `loadstring` do not exist without `package` / in 5.4); `print`
// writes to the log at INFO as "lua[<name>]: ..." (at most kMaxPrintsPerRun
// lines of at most kMaxPrintBytes per run); `setmetatable` refuses a
// metatable with a __gc field (Lua runs finalizers with hooks off, out of
// reach of the limits); string without string.dump; table; math; utf8. Not
// opened: io, os, package, debug, coroutine (cartridges are straight-line
// event transforms, and a coroutine would run outside the call's hook
// settings).
//
// Limits (LuaLimits), enforced per Run() and for the top-level chunk:
//  * instructions: a count hook; "instruction budget of N exceeded";
//  * wall time: checked in the same hook (every <=1000 VM instructions);
//    "wall-time budget of 50ms exceeded";
//  * memory: the state's allocator refuses to go above memory_bytes;
//    "memory limit of N bytes exceeded". Deep recursion ends in Lua's
//    "stack overflow" / "C stack overflow" error or the memory cap.
// string.find, match, gmatch and gsub are lua_pattern.h's replacements of
// Lua's: their matcher charges each of its steps as one instruction (every
// kLuaPatternStepsPerCharge steps and when the call returns, checking the
// wall time as the hook does), so a backtracking pattern ends with the same
// limit errors. Other C functions (string.rep, upper, table.concat, ...) are
// linear in data the memory cap bounds, and run to completion between two
// checks.
// A limit, once hit, stays hit until the run ends: every further VM
// instruction raises the error again, so `pcall` inside the script cannot
// swallow it. After a run that hit a limit, needs_rebuild() is true: the
// owner discards the state (which may hold a bloated global table) and makes
// a fresh one.
//
// Lua errors are C++ exceptions here: the library target links Debian's
// liblua5.4-c++ (Lua built as C++), so an error raised under Run() unwinds
// C++ frames with their destructors instead of longjmp-ing over them.
//
// Thread-compatible: one thread at a time.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_SANDBOX_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_SANDBOX_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/egress/lua/lua_pattern.h"

struct lua_State;
struct lua_Debug;

namespace teleclaude::mesh {

// Per-call limits of a Lua cartridge.
struct LuaLimits {
  int64_t instructions = 1'000'000;
  absl::Duration wall_time = absl::Milliseconds(50);
  size_t memory_bytes = 8 << 20;
  int max_emits_per_call = 10;
  int max_emit_depth = 3;
};

class LuaSandbox final : private LuaStepMeter {
 public:
  static constexpr int kMaxPrintsPerRun = 20;
  static constexpr size_t kMaxPrintBytes = 1024;

  // A fresh state with the libraries above. `name` names the chunk in error
  // messages ("<name>:3: ...") and the print lines. InvalidArgument for
  // non-positive limits; ResourceExhausted when memory_bytes cannot even
  // hold the standard libraries.
  static absl::StatusOr<std::unique_ptr<LuaSandbox>> Create(std::string name, LuaLimits limits);
  ~LuaSandbox() override;
  LuaSandbox(const LuaSandbox&) = delete;
  LuaSandbox& operator=(const LuaSandbox&) = delete;

  // Compiles `source` as a text chunk (binary chunks are refused) and runs it
  // under the limits. Compile errors: InvalidArgument with the compiler's
  // message; errors while running it: as Run().
  absl::Status LoadAndRun(std::string_view source);

  // Runs `body` in protected mode under fresh per-run budgets. `body` may use
  // any Lua API (Lua errors it raises are caught here) and returns its own
  // status. Returns:
  //  * ResourceExhausted naming the limit when one was hit;
  //  * Aborted("<Lua error message>") for any other Lua error;
  //  * otherwise what `body` returned.
  // The Lua stack is restored to its height before the call.
  absl::Status Run(absl::FunctionRef<absl::Status(lua_State*)> body);

  lua_State* state() const { return state_; }
  const std::string& name() const { return name_; }
  const LuaLimits& limits() const { return limits_; }
  // Bytes the state holds right now.
  size_t memory_in_use() const { return memory_in_use_; }
  // True after a run that hit a limit (see the header comment).
  bool needs_rebuild() const { return needs_rebuild_; }

 private:
  LuaSandbox(std::string name, LuaLimits limits);

  static void* Allocate(void* ud, void* ptr, size_t old_size, size_t new_size);
  static void CountHook(lua_State* state, lua_Debug* debug);
  // Adds `instructions` to the run's count and checks the limits (the wall
  // time once at least hook_interval_ instructions were added since the
  // last check). Raises the limit error, sticky for the rest of the run,
  // when a limit is or was hit.
  void Charge(lua_State* state, int64_t instructions);
  // LuaStepMeter: one matcher step costs one instruction.
  void ChargeSteps(lua_State* state, int64_t steps) override;
  static int Print(lua_State* state);
  static int Panic(lua_State* state);
  static LuaSandbox* FromState(lua_State* state);

  absl::Status OpenLibraries();
  void StartRun();
  absl::Status FinishRun(int lua_status, absl::Status body_status);

  // Fixed after construction.
  const std::string name_;
  const LuaLimits limits_;
  const int hook_interval_;

  lua_State* state_ = nullptr;
  size_t memory_in_use_ = 0;
  bool memory_limit_hit_ = false;
  // Per run.
  int64_t instructions_run_ = 0;
  int64_t instructions_since_clock_check_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  std::string limit_error_;  // non-empty once a limit was hit in this run
  int prints_ = 0;
  bool needs_rebuild_ = false;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_SANDBOX_H_
