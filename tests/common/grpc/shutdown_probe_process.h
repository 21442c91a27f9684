// Starts tests/common/grpc/shutdown_probe (a real service process) and waits
// for its "ready <port>" line. Needs TM_SHUTDOWN_PROBE (the CMake target's
// path) defined by the test target.
#ifndef TELECLAUDE_MESH_TESTS_COMMON_GRPC_SHUTDOWN_PROBE_PROCESS_H_
#define TELECLAUDE_MESH_TESTS_COMMON_GRPC_SHUTDOWN_PROBE_PROCESS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tests/support/child_process.h"

namespace teleclaude::mesh::testing {

struct ProbeProcess {
  std::unique_ptr<ChildProcess> child;
  std::string ready_line;  // "ready <port>"
  std::string target;      // "127.0.0.1:<port>"
};

inline absl::StatusOr<ProbeProcess> StartShutdownProbe() {
  ChildOptions options;
  options.args = {TM_SHUTDOWN_PROBE};
  options.separate_stdout = true;
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Start(options);
  if (!child.ok()) return child.status();
  absl::StatusOr<std::string> line = (*child)->ReadStdoutLine(absl::Seconds(10));
  if (!line.ok()) {
    return absl::Status(line.status().code(),
                        absl::StrCat(line.status().message(), "; stderr: ", (*child)->ReadLog()));
  }
  if (!absl::StartsWith(*line, "ready ")) {
    return absl::InternalError(absl::StrCat("shutdown_probe said: ", *line));
  }
  ProbeProcess probe;
  probe.target = absl::StrCat("127.0.0.1:", line->substr(6));
  probe.ready_line = *std::move(line);
  probe.child = *std::move(child);
  return probe;
}

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_COMMON_GRPC_SHUTDOWN_PROBE_PROCESS_H_
