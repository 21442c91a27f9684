// Something that takes part in every transaction of a SingleWriter
// (single_writer.h) besides the jobs: e.g. an Outbox, which records its
// sender's progress and enforces its bounds in the same transaction as the
// rows the jobs append.
#ifndef TELECLAUDE_MESH_COMMON_DELIVERY_ROUND_PARTICIPANT_H_
#define TELECLAUDE_MESH_COMMON_DELIVERY_ROUND_PARTICIPANT_H_

#include "absl/status/status.h"

namespace teleclaude::mesh {

// Called on the writer thread, except HasWork().
class RoundParticipant {
 public:
  virtual ~RoundParticipant() = default;

  // Whether the participant needs a transaction for work of its own, even
  // without jobs (e.g. progress reports to record). Thread-safe; must not
  // block or take a lock that is held while calling SingleWriter::Wake().
  virtual bool HasWork() const { return false; }
  // Inside the transaction, before the jobs (or the Transact body).
  virtual absl::Status BeforeJobs() { return absl::OkStatus(); }
  // Inside the transaction, after them.
  virtual absl::Status AfterJobs() { return absl::OkStatus(); }
  // The transaction committed (after the jobs were told).
  virtual void Committed() {}
  // The transaction failed and was rolled back: forget what was prepared in
  // it (before the jobs are told).
  virtual void RolledBack() {}
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_DELIVERY_ROUND_PARTICIPANT_H_
