// The pipeline stage interface (DESIGN §4), in the manner of Envoy's filter
// chain: a cartridge has a name and one operation on one event. Flow control
// (continue / drop) and failure (a non-OK status) are never encoded as each
// other.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_CARTRIDGE_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_CARTRIDGE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/envelope/envelope.h"

namespace teleclaude::mesh {

// Where the event being processed came from.
enum class EventOrigin { kLocal, kMesh };

// Per-event context handed along the chain. Owned by the runner; valid for
// one Process() call.
struct CartridgeContext {
  EventOrigin origin = EventOrigin::kLocal;
  // For kMesh: the computer that sent it.
  std::string source_computer;
  // How many cartridge emits led to this event (0 for an original event).
  int emit_depth = 0;
  // The stable key of the input this event came from (doc/wire.md,
  // "Processed inputs"), e.g. `local:{stream}:{entry id}` or
  // `mesh:{message id}`; an emitted event gets its parent's key plus
  // `#e{n}`. Identical when a crash makes the same input run again, so
  // effects derived from it (mesh message ids) are stable.
  std::string input_key;
  // Set by the notification projector: the notification created, updated or
  // resolved for this event (0 when none).
  int64_t notification_id = 0;
  // Set by the dedup cartridge: an idempotency key it just looked up in this
  // transaction and found in no notification (saves the projector the same
  // lookup while the event still carries that key).
  std::string absent_idempotency_key;
  // Events a cartridge emits: the runner runs each through the whole
  // pipeline after the current event (subject to its per-call and depth
  // limits). A cartridge appends; it never reads others' entries.
  std::vector<EventEnvelope> emitted;
};

// One stage of the pipeline. Implementations say whether they are
// thread-safe; the runner calls a given cartridge from one thread at a time.
class Cartridge {
 public:
  enum class Verdict {
    kContinue,  // pass the (possibly changed) event on
    kDrop,      // drop it for the rest of the chain
    // The cartridge did not run: its runtime is unavailable now
    // (Unavailable() says why, e.g. the Python sandbox runner is down). The
    // event passes on unchanged; neither an invocation nor a failure.
    kSkipped,
  };

  virtual ~Cartridge() = default;

  // A stable name: `dedup`, `notification-projector`, `mesh-publisher`, or the
  // published cartridge's name.
  virtual std::string_view Name() const = 0;

  // "" when the cartridge can run; otherwise a one-line reason it cannot
  // now, for reasons outside it (its runtime is unavailable), under which
  // Process() returns kSkipped. Shown by Stats (`telec cartridges list`).
  // Thread-safe.
  virtual std::string Unavailable() const { return {}; }

  // Processes `event` in place. On a non-OK status the runner restores the
  // event as it was before the call (for published cartridges; the built-in
  // ones make no change before their last fallible step), counts a failure
  // (not an invocation) and goes on with the next cartridge.
  virtual absl::StatusOr<Verdict> Process(EventEnvelope& event, CartridgeContext& context) = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_CARTRIDGE_H_
