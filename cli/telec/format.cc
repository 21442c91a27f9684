#include "cli/telec/format.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/time/civil_time.h"
#include "common/base/strings.h"
#include "common/envelope/envelope.h"
#include "common/envelope/timestamp_codec.h"
#include "glog/logging.h"

namespace teleclaude::mesh::telec {
namespace {

std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return out;
}

std::string Plural(int64_t n, std::string_view one, std::string_view many) {
  return Cat(n, " ", n == 1 ? one : many);
}

}  // namespace

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::AddRow(std::vector<std::string> cells) {
  CHECK_EQ(cells.size(), headers_.size());
  for (std::string& cell : cells) cell = OneLine(cell);
  rows_.push_back(std::move(cells));
}

std::string Table::Render() const {
  std::vector<size_t> widths(headers_.size(), 0);
  for (size_t c = 0; c < headers_.size(); ++c) widths[c] = DisplayWidth(headers_[c]);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t c = 0; c < cells.size(); ++c) {
      text += cells[c];
      if (c + 1 < cells.size()) text.append(widths[c] - DisplayWidth(cells[c]) + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    CatTo(out, text, "\n");
  };
  line(headers_);
  for (const auto& row : rows_) line(row);
  return out;
}

size_t DisplayWidth(std::string_view text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

std::string Abbreviate(std::string_view text, size_t max_width) {
  std::string line = OneLine(text);
  if (DisplayWidth(line) <= max_width) return line;
  // Keep max_width - 3 code points, then "...".
  size_t keep = max_width - 3, points = 0, i = 0;
  for (; i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) {
      if (points == keep) break;
      ++points;
    }
  }
  line.resize(i);
  return line + "...";
}

std::string RelativeTime(absl::Time t, absl::Time now) {
  absl::Duration d = now - t;
  bool future = d < absl::ZeroDuration();
  if (future) d = -d;
  int64_t s = absl::ToInt64Seconds(d);
  if (s < 5) return "just now";
  std::string amount;
  if (s < 60) {
    amount = Cat(s, " s");
  } else if (s < 3600) {
    amount = Cat(s / 60, " min");
  } else if (s < 86400) {
    amount = Cat(s / 3600, " h");
  } else if (s < 60 * 86400) {
    amount = Plural(s / 86400, "day", "days");
  } else {
    return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone());
  }
  return future ? Cat("in ", amount) : Cat(amount, " ago");
}

absl::StatusOr<absl::Time> ParseTime(std::string_view iso8601) {
  absl::StatusOr<Timestamp> ts = ParseTimestamp(iso8601);
  if (!ts.ok()) return ts.status();
  return ts->ToTime();
}

std::string RelativeTimestamp(std::string_view iso8601, absl::Time now, std::string_view if_empty) {
  if (iso8601.empty()) return std::string(if_empty);
  absl::StatusOr<absl::Time> t = ParseTime(iso8601);
  if (!t.ok()) return std::string(iso8601);
  return RelativeTime(*t, now);
}

std::string_view LevelName(v1::EventLevel level) {
  switch (level) {
    case v1::EVENT_LEVEL_INFRASTRUCTURE:
      return "infrastructure";
    case v1::EVENT_LEVEL_OPERATIONAL:
      return "operational";
    case v1::EVENT_LEVEL_WORKFLOW:
      return "workflow";
    case v1::EVENT_LEVEL_BUSINESS:
      return "business";
    default:
      return "?";
  }
}

std::string_view VisibilityName(v1::EventVisibility visibility) {
  switch (visibility) {
    case v1::EVENT_VISIBILITY_LOCAL:
      return "local";
    case v1::EVENT_VISIBILITY_CLUSTER:
      return "cluster";
    case v1::EVENT_VISIBILITY_PUBLIC:
      return "public";
    default:
      return "?";
  }
}

std::string_view OutcomeName(v1::OutcomeStatus status) {
  switch (status) {
    case v1::OUTCOME_PROCESSED:
      return "processed";
    case v1::OUTCOME_DROPPED:
      return "dropped";
    case v1::OUTCOME_DUPLICATE:
      return "duplicate";
    case v1::OUTCOME_INVALID:
      return "invalid";
    default:
      return "?";
  }
}

std::string_view OriginName(v1::Origin origin) {
  switch (origin) {
    case v1::ORIGIN_LOCAL:
      return "local";
    case v1::ORIGIN_MESH:
      return "mesh";
    default:
      return "?";
  }
}

std::string_view CartridgeStatusName(v1::CartridgeStatus status) {
  switch (status) {
    case v1::CARTRIDGE_STATUS_PENDING:
      return "pending";
    case v1::CARTRIDGE_STATUS_ACTIVE:
      return "active";
    case v1::CARTRIDGE_STATUS_REJECTED:
      return "rejected";
    case v1::CARTRIDGE_STATUS_SUPERSEDED:
      return "superseded";
    case v1::CARTRIDGE_STATUS_SUSPENDED:
      return "suspended";
    case v1::CARTRIDGE_STATUS_FAILED:
      return "failed";
    case v1::CARTRIDGE_STATUS_INACTIVE:
      return "inactive";
    case v1::CARTRIDGE_STATUS_SYSTEM:
      return "system";
    default:
      return "unknown";
  }
}

std::string_view HumanStatusName(v1::HumanStatus status) {
  switch (status) {
    case v1::HUMAN_STATUS_UNSEEN:
      return "unseen";
    case v1::HUMAN_STATUS_SEEN:
      return "seen";
    default:
      return "any";
  }
}

std::string_view AgentStatusName(v1::AgentStatus status) {
  switch (status) {
    case v1::AGENT_STATUS_NONE:
      return "none";
    case v1::AGENT_STATUS_CLAIMED:
      return "claimed";
    case v1::AGENT_STATUS_RESOLVED:
      return "resolved";
    default:
      return "any";
  }
}

absl::StatusOr<v1::EventLevel> ParseLevel(std::string_view option, std::string_view text) {
  std::string lower = absl::AsciiStrToLower(ToAbsl(text));
  for (int i = 0; i <= 3; ++i) {
    auto level = static_cast<v1::EventLevel>(i);
    if (lower == Cat(i) || lower == LevelName(level)) return level;
  }
  return absl::InvalidArgumentError(Cat("--", option, ": \"", text,
                                        "\" is not a level; use 0-3 or infrastructure, "
                                        "operational, workflow or business"));
}

absl::StatusOr<v1::EventVisibility> ParseVisibility(std::string_view option,
                                                    std::string_view text) {
  std::string lower = absl::AsciiStrToLower(ToAbsl(text));
  for (int i = 0; i <= 2; ++i) {
    auto visibility = static_cast<v1::EventVisibility>(i);
    if (lower == VisibilityName(visibility)) return visibility;
  }
  return absl::InvalidArgumentError(
      Cat("--", option, ": \"", text, "\" is not a visibility; use local, cluster or public"));
}

std::string Count(int64_t n) {
  std::string digits = Cat(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return n < 0 ? Cat("-", out) : out;
}

}  // namespace teleclaude::mesh::telec
