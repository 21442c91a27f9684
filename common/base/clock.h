// The time source of components whose behaviour depends on time passing
// (expiry, periodic chores, episode start times). Production code uses
// Clock::Real(); tests inject a clock they advance (tests/support/
// manual_clock.h) instead of sleeping for time to pass. Waiting itself
// (condition variables, socket timeouts) stays on real time.
#ifndef TELECLAUDE_MESH_COMMON_BASE_CLOCK_H_
#define TELECLAUDE_MESH_COMMON_BASE_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace teleclaude::mesh {

// Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // The system's wall clock (absl::Now()); never null, never destroyed.
  static const Clock* Real();

 private:
  class RealClock;
};

class Clock::RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

inline const Clock* Clock::Real() {
  static const RealClock* clock = new RealClock();
  return clock;
}

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_BASE_CLOCK_H_
