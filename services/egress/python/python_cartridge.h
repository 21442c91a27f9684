// An active cartridge of runtime `python` (issue 15, doc/cartridges.md
// "Python cartridges"): the published source is {data_dir}/cartridges/{name}.py
// (written by the installer), and TeleClaude's sandbox runner loads it and
// calls its `async def process(event, context)` for every event, one request
// per event over the runner's socket (runner_protocol.h).
//
// Process():
//  * the runner is unavailable (SandboxRunnerClient::Unavailable(), or the
//    connect fails now): Verdict::kSkipped, the event unchanged; neither an
//    invocation nor a failure (Unavailable() says why, `telec` shows it);
//  * the runner answers an envelope within the budget: it replaces the
//    event (checked like a stream entry) -> kContinue;
//  * it answers envelope null and no error (process returned None): kDrop;
//  * failures (the runner restores the event and counts them, and repeated
//    failures suspend the cartridge as for Lua):
//    ResourceExhausted "wall-time budget of 250ms exceeded (...)" when no
//    complete answer came within the budget, or one came after it;
//    Aborted "python runner: <error>" (the runner's `error`: the
//    exception's text, "timeout"; an empty text too: `raise ValueError()`),
//    one line, at most 300 bytes;
//    InvalidArgument "python runner: response...: <why>" for an answer that
//    is not the protocol (bad frame, JSON, field types, envelope);
//    DataLoss "python runner: the runner closed the connection ..." when it
//    closed without answering; ResourceExhausted for a request over 4 MiB.
// A call returns within the budget plus the stall probe (100 ms) plus a few
// milliseconds whatever the runner does (sandbox_runner_client.h). A call
// that timed out is this cartridge's failure; when the runner then answers
// no ping either (a cartridge blocked its loop) it is also unavailable, so
// the next cartridges are skipped, not failed, until it answers again; a
// cartridge that stalls it again after each restart is suspended like any
// cartridge that keeps failing.
//
// Thread-compatible (the runner calls it from one thread at a time); the
// client it uses is thread-safe.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_PYTHON_PYTHON_CARTRIDGE_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_PYTHON_PYTHON_CARTRIDGE_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "services/egress/cartridges/cartridge.h"
#include "services/egress/python/sandbox_runner_client.h"

namespace teleclaude::mesh {

class PythonCartridge : public Cartridge {
 public:
  // `client` outlives the cartridge; `catalog_snapshot_json` is
  // CatalogSnapshotJson() of the catalog this egress runs with.
  PythonCartridge(std::string name, SandboxRunnerClient* client,
                  std::shared_ptr<const std::string> catalog_snapshot_json, absl::Duration budget);

  std::string_view Name() const override { return name_; }
  std::string Unavailable() const override { return client_->Unavailable(); }
  absl::StatusOr<Verdict> Process(EventEnvelope& event, CartridgeContext& context) override;

 private:
  const std::string name_;
  SandboxRunnerClient* const client_;
  const std::shared_ptr<const std::string> catalog_snapshot_json_;
  const absl::Duration budget_;
};

// The runner's error text as one line of at most `max_bytes` (control
// characters become spaces; cut on a UTF-8 boundary, "..." appended).
std::string OneLine(std::string_view text, size_t max_bytes = 300);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_PYTHON_PYTHON_CARTRIDGE_H_
