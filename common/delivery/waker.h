// A thread that sleeps until there is work can be told there is: the seam
// between a component that produces work (an outbox sender's progress
// report, committed outbox rows) and the thread that acts on it (the
// database's writer, the sender).
#ifndef TELECLAUDE_MESH_COMMON_DELIVERY_WAKER_H_
#define TELECLAUDE_MESH_COMMON_DELIVERY_WAKER_H_

namespace teleclaude::mesh {

// Implementations are thread-safe and never block (they take their own lock
// briefly). Call Wake() after releasing your own locks: the woken side may
// take them while deciding whether it has work.
class Waker {
 public:
  virtual ~Waker() = default;
  virtual void Wake() = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_DELIVERY_WAKER_H_
