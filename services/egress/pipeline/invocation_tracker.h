// Aggregates cartridge invocations (DESIGN §4 `cartridge.invoked`) in memory
// and hands them to the installer in batches (Installer.RecordInvocations):
// {cartridge -> count, last time}, sent about every flush_interval or at once
// when many are pending. Each batch has a unique batch_id; a failed send keeps
// the SAME batch (same id, so the installer applies it once) and retries it
// with backoff while new counts accumulate separately. Nothing is dropped
// while the process runs; at shutdown Flush() tries once more and logs what
// could not be delivered.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_INVOCATION_TRACKER_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_INVOCATION_TRACKER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/egress/pipeline/pipeline_runner.h"
#include "teleclaude/mesh/v1/installer.pb.h"

namespace teleclaude::mesh {

// Thread-safe.
class InvocationTracker {
 public:
  struct Options {
    std::string computer_name;
    absl::Duration flush_interval = absl::Milliseconds(200);
    // Send at once when this many invocations are pending.
    int64_t flush_count = 10000;
    absl::Duration backoff_min = absl::Milliseconds(100);
    absl::Duration backoff_max = absl::Seconds(5);
  };
  // Sends one batch; OK = the installer applied (or had applied) it.
  using SendFn = std::function<absl::Status(const v1::RecordInvocationsRequest& batch)>;

  InvocationTracker(Options options, SendFn send);
  ~InvocationTracker();  // Stop()
  InvocationTracker(const InvocationTracker&) = delete;
  InvocationTracker& operator=(const InvocationTracker&) = delete;

  void Start();
  void Stop();  // idempotent; does not flush

  // Adds invocations (never `cartridge.invoked` ones: the runner does not
  // record them).
  void Add(const std::vector<Invocation>& invocations);

  // Sends what is pending now (the unsent batch first), on the calling
  // thread, once. Returns the first error; what failed stays pending.
  // REQUIRES: the background thread is stopped (shutdown path).
  absl::Status Flush();

  // Invocations not yet confirmed by the installer.
  int64_t unsent() const;
  int64_t batches_sent() const { return batches_sent_.load(); }

 private:
  struct Aggregate {
    int64_t count = 0;
    absl::Time last = absl::InfinitePast();
  };
  void Run();
  // Moves pending counts into a new in-flight batch when there is none.
  void SealBatchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SendInFlight();

  const Options options_;
  const SendFn send_;
  const std::string batch_prefix_;  // unique per process run
  mutable absl::Mutex mu_;
  std::map<std::string, Aggregate> pending_ ABSL_GUARDED_BY(mu_);
  int64_t pending_count_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<v1::RecordInvocationsRequest> in_flight_ ABSL_GUARDED_BY(mu_);
  int64_t in_flight_count_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t next_batch_ ABSL_GUARDED_BY(mu_) = 1;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex send_mu_;  // one send at a time (thread or Flush)
  std::thread thread_;
  std::atomic<int64_t> batches_sent_{0};
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_PIPELINE_INVOCATION_TRACKER_H_
