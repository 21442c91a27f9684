#include "common/envelope/envelope.h"

#include "absl/time/clock.h"

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
  absl::Time now = absl::Now();
  Timestamp ts;
  ts.civil = absl::ToCivilSecond(now, absl::UTCTimeZone());
  absl::Time whole = absl::FromCivil(ts.civil, absl::UTCTimeZone());
  ts.micros = static_cast<int32_t>(absl::ToInt64Microseconds(now - whole));
  ts.utc_offset_seconds = 0;
  return ts;
}

absl::Time Timestamp::ToTime() const {
  return absl::FromCivil(civil, absl::UTCTimeZone()) -
         absl::Seconds(utc_offset_seconds.value_or(0)) + absl::Microseconds(micros);
}

}  // namespace teleclaude::mesh
