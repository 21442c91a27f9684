// Timestamp text codecs for the event envelope (doc/wire.md, "Timestamps").
//
// Two dialects exist on the wire:
//  * mesh JSON (pydantic's `model_dump_json`): UTC written as `Z`, other
//    offsets kept as given, a naive time without zone, the fraction only when
//    non-zero and then with six digits;
//  * local stream entries (Python's `datetime.isoformat()`): UTC written as
//    `+00:00`, otherwise the same.
// All functions are pure and thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_ENVELOPE_TIMESTAMP_CODEC_H_
#define TELECLAUDE_MESH_COMMON_ENVELOPE_TIMESTAMP_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/envelope/envelope.h"

namespace teleclaude::mesh {

// Parses a timestamp string the way the Python model's JSON validator
// (pydantic / speedate) does: `YYYY-MM-DD`, then `T`, `t`, ` ` or `_`, then
// `HH:MM[:SS[.fraction]]` (`.` or `,`; any number of fraction digits, cut to
// six), then nothing (naive), `Z`/`z` (UTC) or `+HH:MM` / `+HHMM` / `+HH`
// (|offset| < 24 h). A date alone is midnight, naive. A string that is a
// plain number is taken as Unix seconds (see TimestampFromUnixText).
// Returns InvalidArgument naming what is wrong (no field name prefix).
absl::StatusOr<Timestamp> ParseTimestamp(std::string_view text);

// Parses what Python 3.11's `datetime.fromisoformat` accepts for the stream
// entry's `timestamp` field: `YYYY-MM-DD` or `YYYYMMDD`, optionally followed
// by any single separator character and `HH[:MM[:SS[.fraction]]]` (or the
// basic `HHMMSS` form), then an optional `Z` or `+HH[:MM[:SS]]` offset.
// ISO week dates and offsets with seconds (which the mesh text could not
// carry) are not supported. Errors as ParseTimestamp.
absl::StatusOr<Timestamp> ParseTimestampIsoformat(std::string_view text);

// Unix seconds given as JSON number text (integer or float, e.g.
// "1740832496" or "1740832496.5") -> UTC timestamp, as pydantic does
// (values whose magnitude exceeds 2e10 are taken as milliseconds).
// InvalidArgument when the text is not a number or the result is outside
// years 1..9999.
absl::StatusOr<Timestamp> TimestampFromUnixText(std::string_view number_text);

// The UTC wall-clock time of Unix time `seconds` (what
// absl::ToCivilSecond(absl::FromUnixSeconds(seconds), absl::UTCTimeZone())
// gives, by plain arithmetic: no time zone lookup).
absl::CivilSecond CivilFromUnixSeconds(int64_t seconds);

// model_dump_json style, e.g. "2025-03-01T12:34:56.789012Z",
// "2025-03-01T04:34:56-08:00", "2025-03-01T00:00:00" (naive).
std::string FormatTimestampMesh(const Timestamp& ts);

// Python isoformat style, e.g. "2025-03-01T12:34:56.789012+00:00".
std::string FormatTimestampStream(const Timestamp& ts);

// Appending variants of the two formatters (no allocation beyond `out`).
void AppendTimestampMesh(const Timestamp& ts, std::string* out);
void AppendTimestampStream(const Timestamp& ts, std::string* out);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_ENVELOPE_TIMESTAMP_CODEC_H_
