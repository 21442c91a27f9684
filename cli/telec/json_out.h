// telec's --json output: one compact JSON value per command (JSON lines for
// `events tail`). JSON-valued fields of the contract (payload_json,
// resolution_json, ...) are embedded as JSON values, not as strings; unset
// optional fields are null; enums are their lower-case names (format.h);
// timestamps stay ISO 8601 text. Written with common/json's json::Writer.
// Thread-compatible.
#ifndef TELECLAUDE_MESH_CLI_TELEC_JSON_OUT_H_
#define TELECLAUDE_MESH_CLI_TELEC_JSON_OUT_H_

#include <string_view>

#include "common/json/writer.h"
#include "teleclaude/mesh/v1/envelope.pb.h"
#include "teleclaude/mesh/v1/ingress.pb.h"
#include "teleclaude/mesh/v1/installer.pb.h"
#include "teleclaude/mesh/v1/pipeline.pb.h"

namespace teleclaude::mesh::telec {

// JSON text of the contract (payload_json, resolution_json ...) as a value:
// re-encoded canonically as strict JSON (non-finite floats become null).
// Text that is not valid JSON is written as a string; empty text as
// `empty_as` (e.g. "{}").
void WriteJsonText(std::string_view json_text, json::Writer& out,
                   std::string_view empty_as = "null");

// Members of the contract's messages, written into the current object (or
// as a whole object for the *Value functions).
void WriteEnvelope(const v1::EventEnvelope& envelope, json::Writer& out);  // object
// `unavailable` (egress's one-line reason a cartridge cannot run now, e.g.
// its Python runner is down) adds "unavailable" when non-empty.
void WriteCartridge(const v1::Cartridge& cartridge, bool with_source, json::Writer& out,
                    std::string_view unavailable = {});                           // object
void WriteNotification(const v1::Notification& notification, json::Writer& out);  // object
void WriteOutcome(const v1::EventOutcome& outcome, json::Writer& out);            // object
void WriteWatchedEvent(const v1::WatchedEvent& event, json::Writer& out);         // object
// `stats` (may be null: egress's Stats failed) adds each peer's "forwarded"
// count; null without it.
void WritePeers(const v1::ListPeersResponse& peers, const v1::StatsResponse* stats,
                json::Writer& out);  // object
// envelope_json embedded as a value (a string when it is not JSON).
void WriteQuarantinedEvent(const v1::QuarantinedEvent& event, json::Writer& out);  // object

}  // namespace teleclaude::mesh::telec

#endif  // TELECLAUDE_MESH_CLI_TELEC_JSON_OUT_H_
