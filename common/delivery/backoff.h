// The one retry policy of the delivery core: exponential backoff from `min`,
// doubling after each failure, capped at `max`, back to `min` after a
// success. Every reader, sender and writer of common/delivery waits with it,
// so "how long after a failure" has one answer (doc/architecture.md).
#ifndef TELECLAUDE_MESH_COMMON_DELIVERY_BACKOFF_H_
#define TELECLAUDE_MESH_COMMON_DELIVERY_BACKOFF_H_

#include <algorithm>

#include "absl/time/time.h"

namespace teleclaude::mesh {

// Value type; thread-compatible.
class Backoff {
 public:
  Backoff(absl::Duration min, absl::Duration max)
      : min_(min), max_(std::max(min, max)), next_(min) {}

  // The delay to wait now; the following call returns twice as much (up to
  // max).
  absl::Duration Next() {
    absl::Duration d = next_;
    next_ = std::min(next_ * 2, max_);
    return d;
  }
  // After a success: the next failure waits `min` again.
  void Reset() { next_ = min_; }
  // What Next() would return.
  absl::Duration peek() const { return next_; }
  bool at_min() const { return next_ == min_; }

 private:
  absl::Duration min_;
  absl::Duration max_;
  absl::Duration next_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_DELIVERY_BACKOFF_H_
