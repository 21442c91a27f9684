// Periodic upkeep of a database, run by its SingleWriter between rounds
// (single_writer.h): e.g. forgetting expired seen ids (seen_ids.h).
#ifndef TELECLAUDE_MESH_COMMON_DELIVERY_WRITER_CHORE_H_
#define TELECLAUDE_MESH_COMMON_DELIVERY_WRITER_CHORE_H_

#include "absl/time/time.h"

namespace teleclaude::mesh {

// Called on the writer thread only, outside any transaction (a chore opens
// its own, small ones, so it never stalls the rounds behind it for long).
class WriterChore {
 public:
  virtual ~WriterChore() = default;
  // Does one step when one is due at `now`. Returns true when another step
  // is due at once (the writer comes back without waiting); failures are
  // the chore's to log and to retry later.
  virtual bool RunIfDue(absl::Time now) = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_DELIVERY_WRITER_CHORE_H_
