// A sandboxed Lua 5.4 state for one cartridge (issue 7 §2): only safe
// libraries, text chunks only, and per-call limits on instructions, wall
// time and memory that no call can escape (issue 18 §3).
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
//  * instructions: "instruction budget of N exceeded". A count hook counts
//    VM instructions, and C functions charge their work in the same units
//    (lua_meter.h: one unit ~ one instruction ~ 2 ns);
//  * wall time: "wall-time budget of 50ms exceeded" (see the bound below);
//  * memory: the state's allocator refuses to go above memory_bytes;
//    "memory limit of N bytes exceeded". Deep recursion ends in Lua's
//    "stack overflow" / "C stack overflow" error or the memory cap.
// A limit, once hit, stays hit until the run ends: every further VM
// instruction and every further charge raises the error again, so `pcall`
// inside the script cannot swallow it. After a run that hit a limit,
// needs_rebuild() is true: the owner discards the state (which may hold a
// bloated global table) and makes a fresh one.
//
// The wall-time bound. A run returns within wall_time + 10 ms (on an idle
// 2-core machine; measured figures in README "Lua cartridges": the 10 ms
// are the longest single piece of work no check interrupts, a VM
// instruction or one charged call), whatever the script does, and a run
// that took longer than wall_time is a failure even when it got to the end.
// Time the run's thread spent waiting for a CPU is not held against the
// script: past the deadline the sandbox reads the thread's CPU time (a
// system call, made only then and at most every 5 ms at the start of a
// run), and a run that used less than wall_time of it gets the rest as a
// new deadline, up to kMaxWallFactor * wall_time (1 s) of wall time, a
// backstop for a thread that is blocked rather than kept waiting. So a busy
// machine does not fail a cartridge that would have kept its budget, and no
// run holds the thread for more than wall_time of CPU + 10 ms, nor for more
// than 1 s of wall time. (A call that hit a limit then rebuilds the state:
// the top-level code runs again, under the same limits.) Four mechanisms,
// all in process (a process per cartridge would be killable but costs a
// context switch and a JSON round trip per event at ~80,000 events/s, more
// than the whole pipeline costs today):
//  1. The count hook reads the clock every 1000 instructions.
//  2. Every C function whose work depends on its arguments charges that
//     work to the instruction count and reads the clock every 1000 units:
//     before it starts when the arguments tell how much it will be (a call
//     that would exceed the budget does nothing), or as it goes. Lua's own
//     functions that loop beyond what their data bounds are replaced by our
//     implementations with the same results and errors: string.find,
//     match, gmatch, gsub (lua_pattern.h: backtracking) and the table
//     library (lua_table_library.h: sort is n log n, and move, insert and
//     remove loop over any range a __len metamethod or argument names
//     without allocating). The others are wrapped with a charge
//     (lua_charged_functions.h). The JSON conversions of the returned and
//     emitted events (lua_json_codec.h, lua_envelope.h) charge per value.
//  3. The allocator reads the clock every kAllocationBytesPerClockCheck
//     bytes allocated and whenever it refuses a block (each refusal costs a
//     full collection).
//  4. A VM instruction does work in proportion to its operands, which the
//     memory cap bounds to a few ms (comparing or concatenating megabyte
//     strings, passing 250,000 arguments; comparing two 1 MB strings of NUL
//     bytes, which strcoll takes piece by piece, 5 ms); a thousand such
//     instructions run between two count hooks. The process's LuaWatchdog
//     (lua_watchdog.h) wakes at the deadline of a run in progress and
//     interrupts it at its next instruction.
// What every library function does in C, and why it is bounded:
//  * string.find, match, gmatch, gsub: metered matcher (lua_pattern.h).
//  * table.concat, insert, move, pack, remove, sort, unpack: metered
//    (lua_table_library.h).
//  * string.byte, char, format, lower, pack, packsize, rep, reverse, sub,
//    unpack, upper, the string arithmetic metamethods ("10" + 1),
//    utf8.char, codepoint, codes (its iterator), len, offset, tonumber,
//    rawequal, math.max, math.min: work linear in their arguments or
//    results, charged (lua_charged_functions.h lists the prices).
//  * string.len; assert, error, getmetatable, ipairs, next, pairs, pcall,
//    rawget, rawlen, rawset, select, setmetatable, tostring, type, xpcall;
//    math.abs, acos, asin, atan, ceil, cos, deg, exp, floor, fmod, log,
//    modf, rad, random, randomseed, sin, sqrt, tan, tointeger, type, ult:
//    constant work in C (a table access, one number; tostring's
//    __tostring and __name and pcall's function are Lua code, counted;
//    arguments and results are moved by the VM: mechanism 4).
//  * print, emit, json.null: ours; print writes at most 20 lines of 1 KB
//    per run, emit converts a table (charged per value, 2.).
// The static L2 policy (services/installer/policy_guardian.h) refuses what
// the sandbox does not offer or refuses at run time.
//
// Lua errors are C++ exceptions here: the library target links Debian's
// liblua5.4-c++ (Lua built as C++), so an error raised under Run() unwinds
// C++ frames with their destructors instead of longjmp-ing over them.
//
// Thread-compatible: one thread at a time.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_SANDBOX_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_SANDBOX_H_

#include <atomic>
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
#include "services/egress/lua/lua_meter.h"
#include "services/egress/lua/lua_watchdog.h"

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

class LuaSandbox final : private LuaStepMeter, private LuaWatchdog::Target {
 public:
  static constexpr int kMaxPrintsPerRun = 20;
  static constexpr size_t kMaxPrintBytes = 1024;
  static constexpr size_t kAllocationBytesPerClockCheck = 256 << 10;
  // However long its thread waits for a CPU, a run ends by this many times
  // its wall-time budget.
  static constexpr int kMaxWallFactor = 20;

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
  //  * ResourceExhausted naming the limit when one was hit, or the
  //    wall-time one when the run ended after its deadline;
  //  * Aborted("<Lua error message>") for any other Lua error;
  //  * otherwise what `body` returned.
  // The Lua stack is restored to its height before the call.
  absl::Status Run(absl::FunctionRef<absl::Status(lua_State*)> body);

  lua_State* state() const { return state_; }
  // What C functions running under Run() charge their work to (the
  // instruction count; raises the limit errors).
  LuaStepMeter& meter() { return *this; }
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
  // Sets the count hook to fire every `count` instructions.
  void SetHookCount(int count);
  // Adds `instructions` to the run's count and checks the limits (the wall
  // time once at least hook_interval_ instructions were added since the
  // last check, or at once after an interrupt). Raises the limit error,
  // sticky for the rest of the run, when a limit is or was hit.
  void Charge(lua_State* state, int64_t instructions);
  // LuaStepMeter: one unit costs one instruction.
  void ChargeSteps(lua_State* state, int64_t units) override;
  // LuaWatchdog::Target; also called by the allocator. Makes the next VM
  // instruction and the next charge raise the wall-time error.
  void InterruptFromSignal() override;
  // Whether the run is past its deadline (reads the clock).
  bool PastDeadline() const;
  // Whether the run's thread has used its wall-time budget of CPU time
  // since the run started (an upper bound: counted from a sample up to
  // 5 ms before the start), or the run has taken kMaxWallFactor times its
  // budget of wall time.
  bool UsedItsTime() const;
  // Past the deadline: true when the run used its time (the wall-time
  // error is due); otherwise its thread was kept waiting for a CPU, and the
  // run gets the rest of its budget as a new deadline (false).
  bool OutOfTime();
  std::string WallTimeError() const;
  static int Print(lua_State* state);
  static int Panic(lua_State* state);
  static LuaSandbox* FromState(lua_State* state);

  absl::Status OpenLibraries();
  absl::Status RunWithin(absl::Duration wall_time,
                         absl::FunctionRef<absl::Status(lua_State*)> body);
  void StartRun(absl::Duration wall_time);
  absl::Status FinishRun(int lua_status, absl::Status body_status);

  // Fixed after construction.
  const std::string name_;
  const LuaLimits limits_;
  const int hook_interval_;

  lua_State* state_ = nullptr;
  std::unique_ptr<LuaWatchdog::Watch> watch_;  // null without a watchdog
  size_t memory_in_use_ = 0;
  bool memory_limit_hit_ = false;
  // Per run.
  bool running_ = false;
  int64_t instructions_run_ = 0;
  int64_t instructions_since_clock_check_ = 0;
  size_t allocated_since_clock_check_ = 0;
  absl::Duration run_wall_time_;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::time_point run_start_;
  int64_t run_cpu_start_ns_ = 0;  // the thread's CPU time at or before the start
  // Set by the watchdog's signal handler (and the allocator): the run is
  // past its deadline.
  std::atomic<bool> interrupted_{false};
  // Instructions between two count hooks now (also set by the handler).
  std::atomic<int> hook_count_{0};
  std::string limit_error_;  // non-empty once a limit was hit in this run
  int prints_ = 0;
  bool needs_rebuild_ = false;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_SANDBOX_H_
