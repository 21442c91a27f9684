// The pipeline executor (DESIGN §4): runs one event through the chain
// `dedup` -> `notification-projector` -> `mesh-publisher` -> active cartridges
// (activation order), records invocations, runs emitted events through the
// whole chain, and suspends a cartridge after repeated failures. Independent
// of where events come from: the pipeline worker drives it, and so can a test.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_PIPELINE_RUNNER_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_PIPELINE_RUNNER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/envelope/envelope.h"
#include "services/egress/cartridges/cartridge.h"
#include "services/egress/cartridges/cartridge_factory.h"

namespace teleclaude::mesh {

// One successful cartridge run (-> a `cartridge.invoked` record).
struct Invocation {
  std::string cartridge_name;
  std::string event_type;
  absl::Time at;
};

// What happened to one event in the chain.
struct RunResult {
  enum class Status { kProcessed, kDropped };
  Status status = Status::kProcessed;
  std::string dropped_by;  // the cartridge that dropped it
  EventEnvelope envelope;  // as it left the chain (or as it was when dropped)
  EventOrigin origin = EventOrigin::kLocal;
  std::string source_computer;
  std::string input_key;
  int64_t notification_id = 0;
};

// An active (published) cartridge with what egress knows of it.
struct ActiveCartridge {
  CartridgeSpec spec;
  std::unique_ptr<Cartridge> cartridge;
};

// Per-cartridge counters (Stats).
struct CartridgeCounters {
  int64_t invocations = 0;
  int64_t dropped = 0;
  int64_t failures = 0;
  // Calls that did not run because the cartridge's runtime was unavailable
  // (Verdict::kSkipped).
  int64_t skipped = 0;
  int consecutive_failures = 0;
  bool suspended = false;
};

// Thread-compatible: used by one thread at a time (the pipeline worker).
class PipelineRunner {
 public:
  struct Options {
    std::string computer_name;
    // Emitted events: at most this many per cartridge call are run, and
    // events deeper than max_emit_depth are not run (counted, logged).
    int max_emits_per_call = 10;
    int max_emit_depth = 3;
    // Consecutive failures that suspend a published cartridge.
    int failure_threshold = 5;
  };
  // Called when a published cartridge is suspended (on the runner's thread).
  using SuspendFn = std::function<void(const CartridgeSpec& spec, const std::string& reason)>;

  // `system` are the built-in cartridges in order (never suspended).
  PipelineRunner(Options options, std::vector<std::unique_ptr<Cartridge>> system,
                 SuspendFn on_suspend = nullptr);

  // Replaces the active published cartridges (call between batches).
  void SetActive(std::vector<ActiveCartridge> active);
  // Names of the active, not suspended cartridges in order.
  std::vector<std::string> ActiveNames() const;

  // Runs `event` and then every event emitted along the way (depth-first
  // order of emission) through the chain. Appends one RunResult per event
  // run to `results` (the original first) and one Invocation per cartridge
  // call that returned kContinue to `invocations`. A cartridge's non-OK
  // status restores the event, counts a failure and goes on with the next
  // cartridge. Never fails.
  void Run(EventEnvelope event, EventOrigin origin, std::string source_computer,
           std::string input_key, std::vector<RunResult>* results,
           std::vector<Invocation>* invocations);

  // Cartridge::Unavailable() of the active cartridge `name` ("" when it can
  // run or is not active).
  std::string Unavailable(const std::string& name) const;

  // Counters by cartridge name (system and published, including suspended).
  const std::map<std::string, CartridgeCounters>& counters() const { return counters_; }
  int64_t emits_refused() const { return emits_refused_; }

 private:
  struct Slot {
    Cartridge* cartridge;
    const CartridgeSpec* spec;  // null for system cartridges
  };
  void RunOne(EventEnvelope event, CartridgeContext context, std::vector<RunResult>* results,
              std::vector<Invocation>* invocations);
  void Suspend(ActiveCartridge& active, const std::string& reason);

  const Options options_;
  const SuspendFn on_suspend_;
  std::vector<std::unique_ptr<Cartridge>> system_;
  std::vector<ActiveCartridge> active_;
  std::map<std::string, CartridgeCounters> counters_;
  int64_t emits_refused_ = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_PIPELINE_RUNNER_H_
