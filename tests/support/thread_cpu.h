#ifndef TELECLAUDE_MESH_TESTS_SUPPORT_THREAD_CPU_H_
#define TELECLAUDE_MESH_TESTS_SUPPORT_THREAD_CPU_H_

#include <time.h>

namespace teleclaude::mesh::testing {

// CPU time of the calling thread, in milliseconds. Bounds on how quickly a
// runaway computation is stopped are stated in the CPU it was allowed to
// burn: wall time also counts the time a loaded machine did not schedule the
// thread at all.
inline double ThreadCpuMilliseconds() {
  timespec cpu{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
  return cpu.tv_sec * 1e3 + cpu.tv_nsec / 1e6;
}

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SUPPORT_THREAD_CPU_H_
