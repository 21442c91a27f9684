// How the C functions of the Lua sandbox pay for their work (issue 18 §3).
//
// A unit of work costs what one Lua VM instruction costs: about 2 ns on the
// development machine (a 2-core VM), so the default instruction budget of
// 1,000,000 buys a few milliseconds of work. Functions written for the
// sandbox (lua_pattern.h, lua_table_library.h, lua_charged_functions.h,
// the JSON codec) charge their work to a LuaStepMeter: before they do it
// when the arguments tell how much it will be, or as they go. The sandbox's
// meter adds the units to the instruction count and reads the clock, so a C
// function cannot run past the limits between two count hooks.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_METER_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_METER_H_

#include <cstdint>
#include <limits>

struct lua_State;

namespace teleclaude::mesh {

// Receives units of work. Implementations decide what a unit costs.
class LuaStepMeter {
 public:
  virtual ~LuaStepMeter() = default;
  // Charges `units` (> 0; saturated sums of huge sizes are fine) of work
  // done, or about to be done, by the C function running in `state`. May
  // raise a Lua error (then it does not return); callers hold nothing that
  // would leak.
  virtual void ChargeSteps(lua_State* state, int64_t units) = 0;
};

// Charges are capped here: a size of 2^62 bytes costs as much as 2^60.
inline constexpr int64_t kMaxLuaCharge = std::numeric_limits<int64_t>::max() / 8;

// a * b and a + b, non-negative, saturated at kMaxLuaCharge.
constexpr int64_t LuaCostProduct(uint64_t a, uint64_t b) {
  if (a == 0 || b == 0) return 0;
  if (a > static_cast<uint64_t>(kMaxLuaCharge) / b) return kMaxLuaCharge;
  return static_cast<int64_t>(a * b);
}
constexpr int64_t LuaCostSum(int64_t a, int64_t b) {
  return a >= kMaxLuaCharge - b ? kMaxLuaCharge : a + b;
}

// Batches many small charges: Step() counts units and hands them to the
// meter once kLuaStepsPerCharge have gathered; Flush() hands over the rest.
// Trivially destructible (a gmatch iterator keeps one in a Lua userdata).
// Thread-compatible.
inline constexpr int64_t kLuaStepsPerCharge = 4096;

class LuaStepCounter {
 public:
  // `meter` may be null (units are counted and dropped).
  explicit LuaStepCounter(LuaStepMeter* meter) : meter_(meter) {}

  void Step(lua_State* state, int64_t units = 1) {
    countdown_ -= units;
    if (countdown_ <= 0) Charge(state);
  }
  void Flush(lua_State* state) {
    if (countdown_ < kLuaStepsPerCharge) Charge(state);
  }

 private:
  void Charge(lua_State* state) {
    const int64_t units = kLuaStepsPerCharge - countdown_;
    countdown_ = kLuaStepsPerCharge;
    if (meter_ != nullptr) meter_->ChargeSteps(state, units);
  }

  LuaStepMeter* meter_;
  int64_t countdown_ = kLuaStepsPerCharge;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_METER_H_
