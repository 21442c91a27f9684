// Human-readable output of telec: aligned tables, relative times, names of
// the contract's enums, and parsing of the level / visibility spellings a
// person types. Pure functions and a value-type Table; thread-compatible.
#ifndef TELECLAUDE_MESH_CLI_TELEC_FORMAT_H_
#define TELECLAUDE_MESH_CLI_TELEC_FORMAT_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "teleclaude/mesh/v1/envelope.pb.h"
#include "teleclaude/mesh/v1/installer.pb.h"
#include "teleclaude/mesh/v1/pipeline.pb.h"

namespace teleclaude::mesh::telec {

// A text table: a header row and rows of cells, printed with every column
// padded to its widest cell (widths in UTF-8 code points), two spaces
// between columns, no trailing spaces. Cells must not contain newlines
// (Render replaces them with spaces).
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  // REQUIRES: cells.size() == number of headers.
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }
  // Header line and one line per row, each ending in '\n'.
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Number of UTF-8 code points in `text` (continuation bytes not counted).
size_t DisplayWidth(std::string_view text);

// `text` on one line (newlines and tabs as spaces), cut to at most
// `max_width` code points with "..." at the end when longer.
// REQUIRES: max_width >= 4.
std::string Abbreviate(std::string_view text, size_t max_width);

// How long ago `t` was, seen at `now`: "just now" (under 5 s), "42 s ago",
// "3 min ago", "5 h ago", "1 day ago", "12 days ago"; from 60 days on the
// date ("2025-01-31", UTC). Times in the future: "in 3 min" etc.
std::string RelativeTime(absl::Time t, absl::Time now);

// RelativeTime of an ISO 8601 timestamp as the services write them;
// `if_empty` for an empty string; the text itself when it does not parse.
std::string RelativeTimestamp(std::string_view iso8601, absl::Time now,
                              std::string_view if_empty = "never");

// The instant of an ISO 8601 timestamp (naive = UTC).
absl::StatusOr<absl::Time> ParseTime(std::string_view iso8601);

// Lower-case names: "infrastructure" / "operational" / "workflow" /
// "business"; "local" / "cluster" / "public"; "processed" / "dropped" /
// "duplicate" / "invalid"; "local" / "mesh"; "pending" / "active" /
// "rejected" / "superseded" / "suspended" / "failed" / "system";
// "unseen" / "seen"; "none" / "claimed" / "resolved".
std::string_view LevelName(v1::EventLevel level);
std::string_view VisibilityName(v1::EventVisibility visibility);
std::string_view OutcomeName(v1::OutcomeStatus status);
std::string_view OriginName(v1::Origin origin);
std::string_view CartridgeStatusName(v1::CartridgeStatus status);
std::string_view HumanStatusName(v1::HumanStatus status);
std::string_view AgentStatusName(v1::AgentStatus status);

// "0".."3" or a level name (any case) -> the level. InvalidArgument
// "--<option>: "x" is not a level; use 0-3 or infrastructure, operational,
// workflow or business".
absl::StatusOr<v1::EventLevel> ParseLevel(std::string_view option, std::string_view text);
// "local" / "cluster" / "public" (any case) -> the visibility; as ParseLevel.
absl::StatusOr<v1::EventVisibility> ParseVisibility(std::string_view option, std::string_view text);

// Thousands grouping for counters: 1234567 -> "1,234,567".
std::string Count(int64_t n);

}  // namespace teleclaude::mesh::telec

#endif  // TELECLAUDE_MESH_CLI_TELEC_FORMAT_H_
