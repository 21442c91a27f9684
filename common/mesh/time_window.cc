#include "common/mesh/time_window.h"

#include "common/base/strings.h"

namespace teleclaude::mesh {

namespace {

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace

absl::Status CheckTimeWindow(std::string_view field, absl::Time claimed, absl::Time now,
                             const TimeWindow& window) {
  if (claimed > now + window.max_future) {
    return absl::OutOfRangeError(
        Cat(field, ": ", Rfc3339(claimed), " is ", absl::FormatDuration(claimed - now),
            " ahead of this computer's clock (", Rfc3339(now), "); accepted: up to ",
            absl::FormatDuration(window.max_future), " ahead (check both clocks, e.g. NTP)"));
  }
  if (claimed < now - window.max_past) {
    return absl::OutOfRangeError(
        Cat(field, ": ", Rfc3339(claimed), " is ", absl::FormatDuration(now - claimed),
            " older than this computer's clock (", Rfc3339(now), "); accepted: up to ",
            absl::FormatDuration(window.max_past), " old (a replay, or held back too long)"));
  }
  return absl::OkStatus();
}

}  // namespace teleclaude::mesh
