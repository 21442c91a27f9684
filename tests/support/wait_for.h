// Polling for a condition: tests wait for effects, never sleep fixed times.
#ifndef TELECLAUDE_MESH_TESTS_SUPPORT_WAIT_FOR_H_
#define TELECLAUDE_MESH_TESTS_SUPPORT_WAIT_FOR_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace teleclaude::mesh::testing {

// Calls `cond` every `poll` until it returns true (→ true) or `timeout`
// passes (→ false; `cond` is tried once more at the end).
inline bool WaitFor(const std::function<bool()>& cond, absl::Duration timeout,
                    absl::Duration poll = absl::Milliseconds(20)) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (cond()) return true;
    absl::SleepFor(poll);
  }
  return cond();
}

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SUPPORT_WAIT_FOR_H_
