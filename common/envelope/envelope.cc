#include "common/envelope/envelope.h"

#include <cstdint>

#include "absl/time/clock.h"
#include "common/envelope/timestamp_codec.h"

namespace teleclaude::mesh {

std::string_view VisibilityName(Visibility v) {
  switch (v) {
    case Visibility::kLocal:
      return "local";
    case Visibility::kCluster:
      return "cluster";
    case Visibility::kPublic:
      return "public";
  }
  return "local";
}

std::optional<Visibility> ParseVisibility(std::string_view name) {
  if (name == "local") return Visibility::kLocal;
  if (name == "cluster") return Visibility::kCluster;
  if (name == "public") return Visibility::kPublic;
  return std::nullopt;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kInfrastructure:
      return "INFRASTRUCTURE";
    case Level::kOperational:
      return "OPERATIONAL";
    case Level::kWorkflow:
      return "WORKFLOW";
    case Level::kBusiness:
      return "BUSINESS";
  }
  return "INFRASTRUCTURE";
}

Timestamp Timestamp::NowUtc() {
  // Every EventEnvelope starts with this: plain arithmetic, no time zone
  // lookup.
  const int64_t unix_micros = absl::ToUnixMicros(absl::Now());
  int64_t seconds = unix_micros / 1000000;
  int64_t micros = unix_micros % 1000000;
  if (micros < 0) {
    micros += 1000000;
    --seconds;
  }
  Timestamp ts;
  ts.civil = CivilFromUnixSeconds(seconds);
  ts.micros = static_cast<int32_t>(micros);
  ts.utc_offset_seconds = 0;
  return ts;
}

absl::Time Timestamp::ToTime() const {
  return absl::FromCivil(civil, absl::UTCTimeZone()) -
         absl::Seconds(utc_offset_seconds.value_or(0)) + absl::Microseconds(micros);
}

}  // namespace teleclaude::mesh
