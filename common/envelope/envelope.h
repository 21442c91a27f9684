// The event envelope model (DESIGN §3.1): the one in-memory form of an event,
// shared by every process. Codecs to and from JSON, flat stream entries and
// protobuf live beside it (json_codec.h, stream_codec.h, proto_codec.h).
// Wire details: doc/wire.md.
#ifndef TELECLAUDE_MESH_COMMON_ENVELOPE_ENVELOPE_H_
#define TELECLAUDE_MESH_COMMON_ENVELOPE_ENVELOPE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace teleclaude::mesh {

// Wire integers of DESIGN §3.1.
enum class Level : int {
  kInfrastructure = 0,
  kOperational = 1,
  kWorkflow = 2,
  kBusiness = 3,
};

enum class Visibility : int {
  kLocal = 0,
  kCluster = 1,
  kPublic = 2,
};

// "local" / "cluster" / "public".
std::string_view VisibilityName(Visibility v);
// Parses the lower-case wire name; nullopt for anything else.
std::optional<Visibility> ParseVisibility(std::string_view name);
// "INFRASTRUCTURE" / "OPERATIONAL" / "WORKFLOW" / "BUSINESS".
std::string_view LevelName(Level level);

// A point in time as the Python model keeps it: the wall-clock fields and the
// UTC offset exactly as given (none for a naive time), so that re-encoding
// writes back the same offset. Value type; thread-compatible.
struct Timestamp {
  absl::CivilSecond civil;                    // wall-clock date and time at the offset
  int32_t micros = 0;                         // 0..999999
  std::optional<int32_t> utc_offset_seconds;  // nullopt = naive

  // The current time in UTC (offset 0), microsecond precision.
  static Timestamp NowUtc();
  // The instant; a naive time is taken as UTC.
  absl::Time ToTime() const;

  friend bool operator==(const Timestamp&, const Timestamp&) = default;
};

// One event. Value type; thread-compatible.
//
// JSON-valued fields hold canonical JSON text: compact, raw UTF-8, numbers as
// the Python model writes them (the `model_dump_json` style). Integers of any
// size are kept exactly because the text is never turned into doubles.
// Non-finite floats (NaN, Infinity, 1e400, which the Python model keeps as
// floats) are held as the tokens `NaN` / `Infinity` / `-Infinity` so that
// the stream form can write them as Python does; the mesh JSON encoder
// writes them as null. Read and edit these fields with common/envelope/
// json_text.h, which accepts those tokens (see the comment there).
struct EventEnvelope {
  std::string event;
  int64_t version = 1;
  std::string source;
  Timestamp timestamp = Timestamp::NowUtc();
  std::optional<std::string> idempotency_key;
  Level level = Level::kInfrastructure;
  std::string domain;
  std::optional<std::string> entity;
  std::string description;
  Visibility visibility = Visibility::kLocal;
  std::string payload_json = "{}";          // always a JSON object
  std::optional<std::string> actions_json;  // JSON object or null
  std::optional<std::string> terminal_when;
  std::optional<std::string> resolution_shape_json;  // JSON object or null
  // Undeclared top-level keys, in received order: key -> canonical JSON text.
  std::vector<std::pair<std::string, std::string>> extras;

  friend bool operator==(const EventEnvelope&, const EventEnvelope&) = default;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_ENVELOPE_ENVELOPE_H_
