#include "services/egress/lua/lua_sandbox.h"

#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "glog/logging.h"
#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "services/egress/lua/lua_charged_functions.h"
#include "services/egress/lua/lua_pattern.h"
#include "services/egress/lua/lua_table_library.h"

namespace teleclaude::mesh {
namespace {

constexpr int kMaxHookInterval = 1000;

// The CPU time of the calling thread. A system call (~0.2 µs on bare
// metal, ~2.5 µs on the development VM): read at most every
// kCpuSampleMaxAge at the start of runs, and when a run is past its
// deadline.
int64_t ThreadCpuNanos() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

constexpr auto kCpuSampleMaxAge = std::chrono::milliseconds(5);
struct CpuSample {
  std::chrono::steady_clock::time_point at;
  int64_t cpu_ns = 0;
  bool taken = false;
};
thread_local CpuSample cpu_sample;

// The thread's CPU time at most kCpuSampleMaxAge before `now`.
int64_t ThreadCpuNanosAtOrBefore(std::chrono::steady_clock::time_point now) {
  if (!cpu_sample.taken || now - cpu_sample.at > kCpuSampleMaxAge) {
    cpu_sample = {now, ThreadCpuNanos(), true};
  }
  return cpu_sample.cpu_ns;
}

// What lua_pcall runs: the body, inside the protected call.
struct ProtectedCall {
  absl::FunctionRef<absl::Status(lua_State*)>* body;
  absl::Status status;
};

int RunProtected(lua_State* state) {
  auto* call = static_cast<ProtectedCall*>(lua_touserdata(state, 1));
  lua_settop(state, 0);
  call->status = (*call->body)(state);
  return 0;
}

// Error messages a script makes can be of any size; a status carries at
// most this much of one.
constexpr size_t kMaxErrorBytes = 2000;

std::string ErrorObjectText(lua_State* state) {
  int type = lua_type(state, -1);
  if (type == LUA_TSTRING || type == LUA_TNUMBER) {
    size_t size = 0;
    const char* text = lua_tolstring(state, -1, &size);
    if (size > kMaxErrorBytes) return Cat(std::string_view(text, kMaxErrorBytes), "...");
    return std::string(text, size);
  }
  return Cat("(error object is a ", lua_typename(state, type), " value)");
}

// setmetatable without finalizers: Lua runs __gc metamethods with hooks
// off, so a finalizer could loop for ever out of reach of the limits. An
// object is registered for finalization only when its metatable has __gc
// at the time setmetatable is called, so checking here is enough.
int SetMetatable(lua_State* state) {
  if (lua_type(state, 2) == LUA_TTABLE) {
    lua_pushliteral(state, "__gc");
    if (lua_rawget(state, 2) != LUA_TNIL) {
      return luaL_error(state, "setmetatable: __gc metamethods are not allowed in cartridges");
    }
    lua_pop(state, 1);
  }
  lua_pushvalue(state, lua_upvalueindex(1));  // the base library's setmetatable
  lua_insert(state, 1);
  lua_call(state, lua_gettop(state) - 1, 1);
  return 1;
}

}  // namespace

LuaSandbox::LuaSandbox(std::string name, LuaLimits limits)
    : name_(std::move(name)),
      limits_(limits),
      hook_interval_(static_cast<int>(std::min<int64_t>(kMaxHookInterval, limits.instructions))) {}

LuaSandbox::~LuaSandbox() {
  watch_.reset();
  if (state_ == nullptr) return;
  // Finalizers a script set up (__gc) would run now, outside any call: let
  // them not run a single instruction.
  limit_error_ = "the Lua state is closing";
  lua_sethook(state_, &CountHook, LUA_MASKCOUNT, 1);
  lua_close(state_);
}

absl::StatusOr<std::unique_ptr<LuaSandbox>> LuaSandbox::Create(std::string name, LuaLimits limits) {
  if (limits.instructions <= 0) {
    return absl::InvalidArgumentError(
        Cat("lua limits: instructions must be positive, got ", limits.instructions));
  }
  if (limits.wall_time <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(Cat("lua limits: wall_time must be positive, got ",
                                          absl::FormatDuration(limits.wall_time)));
  }
  if (limits.memory_bytes == 0) {
    return absl::InvalidArgumentError("lua limits: memory_bytes must be positive");
  }
  std::unique_ptr<LuaSandbox> sandbox(new LuaSandbox(std::move(name), limits));
  sandbox->state_ = lua_newstate(&LuaSandbox::Allocate, sandbox.get());
  if (sandbox->state_ == nullptr) {
    return absl::ResourceExhaustedError(
        Cat("memory limit of ", limits.memory_bytes, " bytes is too small for a Lua state"));
  }
  *static_cast<LuaSandbox**>(lua_getextraspace(sandbox->state_)) = sandbox.get();
  lua_atpanic(sandbox->state_, &LuaSandbox::Panic);
  sandbox->SetHookCount(sandbox->hook_interval_);
  if (LuaWatchdog* watchdog = LuaWatchdog::Get())
    sandbox->watch_ = watchdog->Register(sandbox.get());
  TM_RETURN_IF_ERROR(sandbox->OpenLibraries());
  return sandbox;
}

LuaSandbox* LuaSandbox::FromState(lua_State* state) {
  return *static_cast<LuaSandbox**>(lua_getextraspace(state));
}

void* LuaSandbox::Allocate(void* ud, void* ptr, size_t old_size, size_t new_size) {
  auto* self = static_cast<LuaSandbox*>(ud);
  // For a new block Lua passes the object type in old_size.
  const size_t old = ptr == nullptr ? 0 : old_size;
  if (new_size == 0) {
    std::free(ptr);
    self->memory_in_use_ -= old;
    return nullptr;
  }
  if (new_size > old) {
    const size_t limit = self->limits_.memory_bytes;
    const size_t room = self->memory_in_use_ >= limit ? 0 : limit - self->memory_in_use_;
    const bool refused = new_size - old > room;
    // Allocating costs work (and collections) that no hook sees.
    self->allocated_since_clock_check_ += new_size - old;
    if (self->running_ &&
        (refused || self->allocated_since_clock_check_ >= kAllocationBytesPerClockCheck)) {
      self->allocated_since_clock_check_ = 0;
      if (!self->interrupted_.load(std::memory_order_relaxed) && self->PastDeadline()) {
        self->InterruptFromSignal();
      }
    }
    if (refused) {
      self->memory_limit_hit_ = true;
      return nullptr;  // Lua collects garbage once and retries, then raises
    }
  }
  void* block = std::realloc(ptr, new_size);
  if (block == nullptr) return nullptr;
  self->memory_in_use_ = self->memory_in_use_ - old + new_size;
  return block;
}

void LuaSandbox::CountHook(lua_State* state, lua_Debug* /*debug*/) {
  LuaSandbox* self = FromState(state);
  self->Charge(state, self->hook_count_.load(std::memory_order_relaxed));
}

void LuaSandbox::SetHookCount(int count) {
  hook_count_.store(count, std::memory_order_relaxed);
  lua_sethook(state_, &LuaSandbox::CountHook, LUA_MASKCOUNT, count);
}

void LuaSandbox::ChargeSteps(lua_State* state, int64_t units) { Charge(state, units); }

void LuaSandbox::InterruptFromSignal() {
  interrupted_.store(true, std::memory_order_relaxed);
  SetHookCount(1);
}

bool LuaSandbox::PastDeadline() const { return std::chrono::steady_clock::now() >= deadline_; }

std::string LuaSandbox::WallTimeError() const {
  return Cat("wall-time budget of ", absl::FormatDuration(run_wall_time_), " exceeded");
}

bool LuaSandbox::UsedItsTime() const {
  return ThreadCpuNanos() - run_cpu_start_ns_ >= absl::ToInt64Nanoseconds(run_wall_time_) ||
         std::chrono::steady_clock::now() - run_start_ >=
             kMaxWallFactor * absl::ToChronoNanoseconds(run_wall_time_);
}

bool LuaSandbox::OutOfTime() {
  const auto now = std::chrono::steady_clock::now();
  const auto used = std::chrono::nanoseconds(ThreadCpuNanos() - run_cpu_start_ns_);
  const auto budget = absl::ToChronoNanoseconds(run_wall_time_);
  const auto cap = run_start_ + kMaxWallFactor * budget;
  if (used >= budget || now >= cap) return true;
  // The thread waited for a CPU: that time is not the script's. It gets the
  // rest of its CPU budget from now, within the wall-time cap (a new token:
  // a signal sent for the old deadline is ignored).
  // The interrupt is cleared BEFORE the new run is registered: once Begin
  // publishes the new token, the watchdog may signal it at once (it can read
  // the new token with the old, passed deadline), and clearing after that
  // would lose the interrupt for good (the watchdog signals a token once) —
  // the run then went on for a whole hook interval of heavy instructions
  // (seen under load: 1.1 s of CPU against a 50 ms budget).
  interrupted_.store(false, std::memory_order_relaxed);
  SetHookCount(hook_interval_);
  std::atomic_signal_fence(std::memory_order_seq_cst);  // both before Begin's stores
  const auto rest = std::min<std::chrono::nanoseconds>(budget - used, cap - now);
  deadline_ = now + rest;
  if (watch_ != nullptr) watch_->Begin(deadline_, rest);
  return false;
}

void LuaSandbox::Charge(lua_State* state, int64_t instructions) {
  if (limit_error_.empty()) {
    if (instructions >= limits_.instructions - instructions_run_) {
      instructions_run_ = limits_.instructions;
      limit_error_ = Cat("instruction budget of ", limits_.instructions, " exceeded");
    } else {
      instructions_run_ += instructions;
      instructions_since_clock_check_ += instructions;
      const bool interrupted = interrupted_.load(std::memory_order_relaxed);
      // C functions charge small amounts often; those need no clock
      // reading each.
      if (!interrupted && instructions_since_clock_check_ < hook_interval_) return;
      instructions_since_clock_check_ = 0;
      if (!interrupted && !PastDeadline()) return;
      if (!OutOfTime()) return;
      limit_error_ = WallTimeError();
    }
    // From now on every instruction fails, so that a pcall in the script
    // cannot catch the error and carry on.
    SetHookCount(1);
  }
  luaL_error(state, "%s", limit_error_.c_str());
}

int LuaSandbox::Print(lua_State* state) {
  LuaSandbox* self = FromState(state);
  if (self->prints_ > kMaxPrintsPerRun) return 0;
  if (self->prints_++ == kMaxPrintsPerRun) {
    LOG(INFO) << "lua[" << self->name_ << "]: (further print output of this call suppressed)";
    return 0;
  }
  std::string line;
  const int count = lua_gettop(state);
  for (int i = 1; i <= count && line.size() <= kMaxPrintBytes; ++i) {
    size_t size = 0;
    const char* text = luaL_tolstring(state, i, &size);  // honours __tostring
    if (i > 1) line.push_back('\t');
    line.append(text, std::min(size, kMaxPrintBytes + 1));
    lua_pop(state, 1);
  }
  if (line.size() > kMaxPrintBytes) {
    line.resize(kMaxPrintBytes);
    line.append("...");
  }
  LOG(INFO) << "lua[" << self->name_ << "]: " << line;
  return 0;
}

int LuaSandbox::Panic(lua_State* state) {
  // Only reachable through a bug of ours: every call into Lua is protected.
  LOG(FATAL) << "Lua panic in cartridge " << FromState(state)->name_
             << " (an error outside a protected call): " << ErrorObjectText(state);
  return 0;
}

absl::Status LuaSandbox::OpenLibraries() {
  // Our own work, not the script's: not held to the script's wall time.
  return RunWithin(absl::Seconds(10), [this](lua_State* state) -> absl::Status {
    const std::pair<const char*, lua_CFunction> libraries[] = {
        {LUA_GNAME, luaopen_base},       {LUA_STRLIBNAME, luaopen_string},
        {LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8},
    };
    for (const auto& [name, open] : libraries) {
      luaL_requiref(state, name, open, 1);
      lua_pop(state, 1);
    }
    for (const char* name :
         {"load", "loadfile", "dofile", "collectgarbage", "warn", "loadstring", "require"}) {
      lua_pushnil(state);
      lua_setglobal(state, name);
    }
    lua_getglobal(state, "setmetatable");
    lua_pushcclosure(state, &SetMetatable, 1);
    lua_setglobal(state, "setmetatable");
    lua_getglobal(state, LUA_STRLIBNAME);
    lua_pushnil(state);
    lua_setfield(state, -2, "dump");
    InstallLuaPatternFunctions(state, -1, this);
    lua_pop(state, 1);
    lua_getglobal(state, LUA_TABLIBNAME);
    InstallLuaTableFunctions(state, -1, this);
    lua_pop(state, 1);
    InstallChargedLuaFunctions(state, this);
    lua_pushcfunction(state, &LuaSandbox::Print);
    lua_setglobal(state, "print");
    return absl::OkStatus();
  });
}

absl::Status LuaSandbox::LoadAndRun(std::string_view source) {
  const std::string chunk_name = Cat("=", name_);
  return Run([&](lua_State* state) -> absl::Status {
    int status = luaL_loadbufferx(state, source.data(), source.size(), chunk_name.c_str(), "t");
    if (status == LUA_ERRMEM) lua_error(state);  // classified by Run as the memory limit
    if (status != LUA_OK) {
      return absl::InvalidArgumentError(Cat("lua compile error: ", ErrorObjectText(state)));
    }
    lua_call(state, 0, 0);
    return absl::OkStatus();
  });
}

void LuaSandbox::StartRun(absl::Duration wall_time) {
  run_wall_time_ = wall_time;
  instructions_run_ = 0;
  instructions_since_clock_check_ = 0;
  const auto now = std::chrono::steady_clock::now();
  run_start_ = now;
  deadline_ = now + absl::ToChronoNanoseconds(wall_time);
  run_cpu_start_ns_ = ThreadCpuNanosAtOrBefore(now);
  allocated_since_clock_check_ = 0;
  limit_error_.clear();
  memory_limit_hit_ = false;
  prints_ = 0;
  interrupted_.store(false, std::memory_order_relaxed);
  SetHookCount(hook_interval_);
  running_ = true;
  if (watch_ != nullptr) watch_->Begin(deadline_, absl::ToChronoNanoseconds(wall_time));
}

absl::Status LuaSandbox::Run(absl::FunctionRef<absl::Status(lua_State*)> body) {
  return RunWithin(limits_.wall_time, body);
}

absl::Status LuaSandbox::RunWithin(absl::Duration wall_time,
                                   absl::FunctionRef<absl::Status(lua_State*)> body) {
  const int top = lua_gettop(state_);
  if (!lua_checkstack(state_, 2)) {
    return absl::ResourceExhaustedError("lua: no room on the Lua stack");
  }
  StartRun(wall_time);
  ProtectedCall call{&body, absl::OkStatus()};
  lua_pushcfunction(state_, &RunProtected);
  lua_pushlightuserdata(state_, &call);
  const int lua_status = lua_pcall(state_, 1, 0, 0);
  if (watch_ != nullptr) watch_->End();
  running_ = false;
  absl::Status result = FinishRun(lua_status, std::move(call.status));
  lua_settop(state_, top);
  return result;
}

absl::Status LuaSandbox::FinishRun(int lua_status, absl::Status body_status) {
  // A run that got to its end late, in work no check saw, failed all the
  // same (not when it was late for want of a CPU).
  if (limit_error_.empty() && (interrupted_.load(std::memory_order_relaxed) || PastDeadline()) &&
      UsedItsTime()) {
    limit_error_ = WallTimeError();
  }
  if (!limit_error_.empty()) {
    needs_rebuild_ = true;
    return absl::ResourceExhaustedError(limit_error_);
  }
  if (lua_status == LUA_OK) return body_status;
  // The allocator may have refused a block that Lua then got after an
  // emergency collection; only an error that is the memory error counts.
  std::string message = ErrorObjectText(state_);
  if (memory_limit_hit_) needs_rebuild_ = true;
  if (lua_status == LUA_ERRMEM || (memory_limit_hit_ && message == "not enough memory")) {
    return absl::ResourceExhaustedError(
        Cat("memory limit of ", limits_.memory_bytes, " bytes exceeded"));
  }
  return absl::AbortedError(message);
}

}  // namespace teleclaude::mesh
