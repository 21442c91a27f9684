// Polling for a condition: tests wait for effects, never sleep fixed times.
#ifndef TELECLAUDE_MESH_TESTS_SUPPORT_WAIT_FOR_H_
#define TELECLAUDE_MESH_TESTS_SUPPORT_WAIT_FOR_H_

#include <chrono>
#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace teleclaude::mesh::testing {

// A point in time `timeout` from now on the monotonic clock: unlike
// absl::Now() (the wall clock), it does not move when the system time is
// stepped while a test waits. Thread-compatible.
class Deadline {
 public:
  explicit Deadline(absl::Duration timeout)
      : end_(std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout)) {}
  bool Passed() const { return std::chrono::steady_clock::now() >= end_; }

 private:
  std::chrono::steady_clock::time_point end_;
};

// Calls `cond` every `poll` until it returns true (→ true) or `timeout`
// passes (→ false; `cond` is tried once more at the end).
inline bool WaitFor(const std::function<bool()>& cond, absl::Duration timeout,
                    absl::Duration poll = absl::Milliseconds(20)) {
  const Deadline deadline(timeout);
  while (!deadline.Passed()) {
    if (cond()) return true;
    absl::SleepFor(poll);
  }
  return cond();
}

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SUPPORT_WAIT_FOR_H_
