#include "common/mesh/membership_record.h"

namespace teleclaude::mesh {

std::string_view MemberStateName(MemberState state) {
  switch (state) {
    case MemberState::kLive:
      return "live";
    case MemberState::kAway:
      return "away";
    case MemberState::kForgotten:
      return "forgotten";
    case MemberState::kKeyChanged:
      return "key_changed";
  }
  return "?";
}

std::optional<MemberState> ParseMemberState(std::string_view name) {
  for (MemberState s : {MemberState::kLive, MemberState::kAway, MemberState::kForgotten,
                        MemberState::kKeyChanged}) {
    if (MemberStateName(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view ForgottenByName(ForgottenBy by) {
  return by == ForgottenBy::kPerson ? "person" : "retention";
}

std::optional<ForgottenBy> ParseForgottenBy(std::string_view name) {
  if (name == "person") return ForgottenBy::kPerson;
  if (name == "retention") return ForgottenBy::kRetention;
  return std::nullopt;
}

std::string_view KeySourceName(KeySource source) {
  return source == KeySource::kFirstUse ? "first_use" : "provisioned";
}

std::optional<KeySource> ParseKeySource(std::string_view name) {
  if (name == "first_use") return KeySource::kFirstUse;
  if (name == "provisioned") return KeySource::kProvisioned;
  return std::nullopt;
}

bool RetentionOver(const MemberRecord& record, absl::Time now, absl::Duration retention) {
  return record.state == MemberState::kAway && record.last_seen + retention <= now;
}

bool IsRemembered(const MemberRecord& record, absl::Time now, absl::Duration retention) {
  switch (record.state) {
    case MemberState::kLive:
      return true;
    case MemberState::kAway:
      return !RetentionOver(record, now, retention);
    case MemberState::kForgotten:
    case MemberState::kKeyChanged:
      return false;
  }
  return false;
}

}  // namespace teleclaude::mesh
