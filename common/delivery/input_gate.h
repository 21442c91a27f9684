// Back-pressure on a SingleWriter's input jobs (single_writer.h): while the
// gate is closed, input jobs wait in the writer's queue — and, upstream,
// where they came from (a stream keeps its entries until they are
// acknowledged) — while everything else (tasks, participants' work) goes on.
#ifndef TELECLAUDE_MESH_COMMON_DELIVERY_INPUT_GATE_H_
#define TELECLAUDE_MESH_COMMON_DELIVERY_INPUT_GATE_H_

#include <cstddef>

namespace teleclaude::mesh {

class InputGate {
 public:
  virtual ~InputGate() = default;
  // Whether the next input job may join the round, `taken` input weight
  // having joined it already. Called on the writer thread with the writer's
  // lock held: must not block or call into the writer. When the answer
  // changes to true, call SingleWriter::Wake() (or it is asked again after
  // Options::gate_recheck).
  virtual bool Admit(size_t taken) = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_DELIVERY_INPUT_GATE_H_
