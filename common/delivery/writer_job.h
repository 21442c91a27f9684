// One unit of work for a SingleWriter (single_writer.h): applied inside the
// round's transaction, told afterwards whether it committed.
#ifndef TELECLAUDE_MESH_COMMON_DELIVERY_WRITER_JOB_H_
#define TELECLAUDE_MESH_COMMON_DELIVERY_WRITER_JOB_H_

#include <cstddef>

#include "absl/status/status.h"

namespace teleclaude::mesh {

// Used on the writer thread only.
class WriterJob {
 public:
  virtual ~WriterJob() = default;
  // Writes the job's effects. Runs inside the round's transaction, with the
  // other jobs of the round; an error rolls the whole round back.
  virtual absl::Status Apply() = 0;
  // After the round: OK when it committed, else the round's error (nothing
  // of the job happened). Must not block (answer an RPC, settle a stream
  // batch).
  virtual void Finish(const absl::Status& status) = 0;
  // How much input the job carries (events): rounds take up to
  // SingleWriter::Options::max_round_weight.
  virtual size_t weight() const { return 1; }
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_DELIVERY_WRITER_JOB_H_
