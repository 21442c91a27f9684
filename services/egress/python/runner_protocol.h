// The wire protocol of TeleClaude's sandbox runner (doc/cartridges.md
// "Python cartridges"; reference: teleclaude/events/sandbox/protocol.py and
// runner.py in InstruktAI/TeleClaude). One request per Unix-socket
// connection: the client writes one frame, the runner writes one frame back
// and closes. A frame is a 4-byte big-endian unsigned body length followed
// by a UTF-8 JSON body of at most 4 MiB (both directions).
//   request:  {"cartridge_name": str, "envelope": {str: str} (the envelope's
//              to_stream_dict), "catalog_snapshot": [EventSchema dicts]}
//   response: {"envelope": {str: str} | null, "error": str | null,
//              "duration_ms": number}
// `cartridge_name` "__ping__" is the health check: the runner answers
// {envelope: null, error: null, duration_ms: 0.0} without touching disk.
// Pure functions; thread-safe.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_PYTHON_RUNNER_PROTOCOL_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_PYTHON_RUNNER_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/catalog/event_catalog.h"
#include "common/envelope/envelope.h"

namespace teleclaude::mesh {

// protocol.py's _MAX_FRAME_BYTES: a larger body is refused by both sides.
inline constexpr size_t kRunnerMaxFrameBytes = 4 * 1024 * 1024;
inline constexpr size_t kRunnerHeaderBytes = 4;
// runner.py's health-check cartridge name.
inline constexpr std::string_view kRunnerPingName = "__ping__";

// A decoded response.
struct RunnerResponse {
  // The cartridge's returned envelope (from_stream_dict, validated like a
  // stream entry); nullopt when the runner sent null (the cartridge
  // returned None: the event is dropped) or when `error` is set.
  std::optional<EventEnvelope> envelope;
  // The runner's error text ("timeout", the exception's message); nullopt
  // only for null or a missing key. "" is kept: runner.py writes `error` only
  // from an exception (str(exc)), and `raise ValueError()` has an empty
  // message. (bridge.py's `if response.error:` would read it as a None
  // result, which here would drop the event; container.py's health check
  // tests `error is None`.)
  std::optional<std::string> error;
  double duration_ms = 0;
};

// The catalog as runner.py's _build_catalog_from_snapshot reads it: a JSON
// array of EventSchema.model_dump() objects (event_type, description,
// default_level (int), domain, default_visibility, idempotency_fields,
// lifecycle (object or null), actionable), sorted by event type as
// EventCatalog.list_all() returns them.
std::string CatalogSnapshotJson(const EventCatalog& catalog);

// The framed request (header + body). `catalog_snapshot_json` is
// CatalogSnapshotJson's text. ResourceExhausted "request: N bytes; the
// runner's frame limit is 4194304" when the body is too large.
absl::StatusOr<std::string> EncodeRunnerRequest(std::string_view cartridge_name,
                                                const EventEnvelope& envelope,
                                                std::string_view catalog_snapshot_json);
// The framed ping request (envelope {} and an empty catalog, as
// container.py's health_check sends it).
std::string EncodeRunnerPing();

// The body length announced by a 4-byte header. InvalidArgument when it
// exceeds kRunnerMaxFrameBytes ("response frame of N bytes exceeds the
// runner's 4194304-byte limit").
absl::StatusOr<uint32_t> DecodeRunnerFrameHeader(std::string_view header);

// Decodes and checks a response body. Hostile input: bounded size (the
// frame limit), JSON depth and text size (common/json/reader.h), UTF-8,
// every envelope value a string, the envelope checked as
// DecodeEnvelopeStream checks a stream entry. InvalidArgument naming the
// field, e.g. "response.envelope.level: must be an integer 0-3 ...",
// "response.error: expected a string or null, got number".
absl::StatusOr<RunnerResponse> DecodeRunnerResponse(std::string_view body);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_PYTHON_RUNNER_PROTOCOL_H_
