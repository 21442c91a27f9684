// telec's --json output: one compact JSON value per command (JSON lines for
// `events tail`). JSON-valued fields of the contract (payload_json,
// resolution_json, ...) are embedded as JSON values, not as strings; unset
// optional fields are null; enums are their lower-case names (format.h);
// timestamps stay ISO 8601 text. Thread-compatible.
#ifndef TELECLAUDE_MESH_CLI_TELEC_JSON_OUT_H_
#define TELECLAUDE_MESH_CLI_TELEC_JSON_OUT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "teleclaude/mesh/v1/envelope.pb.h"
#include "teleclaude/mesh/v1/ingress.pb.h"
#include "teleclaude/mesh/v1/installer.pb.h"
#include "teleclaude/mesh/v1/pipeline.pb.h"

namespace teleclaude::mesh::telec {

// A streaming JSON writer over RapidJSON. Calls must form valid JSON
// (CHECKed); Take() returns the text once the top-level value is complete.
class JsonOut {
 public:
  JsonOut();
  ~JsonOut();
  JsonOut(const JsonOut&) = delete;
  JsonOut& operator=(const JsonOut&) = delete;

  JsonOut& BeginObject();
  JsonOut& EndObject();
  JsonOut& BeginArray();
  JsonOut& EndArray();
  JsonOut& Key(std::string_view key);
  JsonOut& String(std::string_view value);
  JsonOut& Int(int64_t value);
  JsonOut& Bool(bool value);
  JsonOut& Null();
  // A string, or null when unset.
  JsonOut& OptionalString(const std::optional<std::string>& value);
  // JSON text as a value (re-encoded canonically). Text that is not valid
  // JSON is written as a string; empty text as `empty_as` (e.g. "{}").
  JsonOut& Raw(std::string_view json_text, std::string_view empty_as = "null");

  // The complete text. REQUIRES: the top-level value is complete.
  std::string Take();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Members of the contract's messages, written into the current object (or
// as a whole object for the *Value functions).
void WriteEnvelope(const v1::EventEnvelope& envelope, JsonOut& out);                  // object
void WriteCartridge(const v1::Cartridge& cartridge, bool with_source, JsonOut& out);  // object
void WriteNotification(const v1::Notification& notification, JsonOut& out);           // object
void WriteOutcome(const v1::EventOutcome& outcome, JsonOut& out);                     // object
void WriteWatchedEvent(const v1::WatchedEvent& event, JsonOut& out);                  // object
void WritePeers(const v1::ListPeersResponse& peers, JsonOut& out);                    // object

}  // namespace teleclaude::mesh::telec

#endif  // TELECLAUDE_MESH_CLI_TELEC_JSON_OUT_H_
