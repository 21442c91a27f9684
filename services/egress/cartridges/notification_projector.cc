#include "services/egress/cartridges/notification_projector.h"

#include <optional>
#include <string>

#include "common/base/status_macros.h"
#include "common/json/json_text.h"
#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

// Python's str(payload.get(field, "")).
std::string GroupValue(std::string_view payload_json, const std::string& field) {
  std::optional<std::string> member = json::GetMember(payload_json, field);
  return member.has_value() ? json::PythonStr(*member) : std::string();
}

// set(payload.keys()) & set(meaningful_fields) is not empty.
bool HasMeaningfulField(std::string_view payload_json, const std::vector<std::string>& fields) {
  for (const std::string& f : fields) {
    if (json::GetMember(payload_json, f).has_value()) return true;
  }
  return false;
}

// The dedup cartridge found no notification with the key the event still
// carries, earlier in this transaction, and nothing created one since (this
// event reaches the projector right after).
bool KnownAbsent(const EventEnvelope& event, const CartridgeContext& context) {
  return !context.absent_idempotency_key.empty() && event.idempotency_key.has_value() &&
         *event.idempotency_key == context.absent_idempotency_key;
}

}  // namespace

absl::StatusOr<Cartridge::Verdict> NotificationProjector::Process(EventEnvelope& event,
                                                                  CartridgeContext& context) {
  // Fast path of TeleClaude: signal-only classified events project nothing.
  if (std::optional<std::string> classification =
          json::GetMember(event.payload_json, "_classification");
      classification.has_value() &&
      json::GetMemberString(*classification, "treatment") == "signal-only") {
    return Verdict::kContinue;
  }
  const EventSchema* schema = catalog_->Find(event.event);
  if (schema == nullptr || !schema->lifecycle.has_value()) return Verdict::kContinue;
  const NotificationLifecycle& lc = *schema->lifecycle;

  std::optional<int64_t> notification_id;
  bool was_created = false;
  bool is_meaningful = false;

  auto update_or_create = [&]() -> absl::Status {
    TM_ASSIGN_OR_RETURN(
        std::optional<int64_t> existing,
        db_->FindByGroupKey(*lc.group_key, GroupValue(event.payload_json, *lc.group_key)));
    if (existing.has_value()) {
      notification_id = *existing;
      is_meaningful = HasMeaningfulField(event.payload_json, lc.meaningful_fields);
      TM_ASSIGN_OR_RETURN(bool updated,
                          db_->UpdateNotificationFields(*existing, event.description,
                                                        event.payload_json, is_meaningful));
      (void)updated;
    } else {
      TM_ASSIGN_OR_RETURN(auto upserted,
                          db_->UpsertByIdempotencyKey(event, KnownAbsent(event, context)));
      notification_id = upserted.first;
      was_created = upserted.second;
      is_meaningful = true;
    }
    return absl::OkStatus();
  };

  const NotificationAggregator::Rule* aggregate =
      aggregator_ != nullptr && lc.creates ? aggregator_->Find(event.event) : nullptr;
  if (aggregate != nullptr) {
    TM_ASSIGN_OR_RETURN(NotificationAggregator::Counted counted,
                        aggregator_->Count(*aggregate, event));
    notification_id = counted.notification_id;
    was_created = counted.created;
    is_meaningful = true;
  } else if (lc.creates && lc.updates && lc.group_key.has_value()) {
    TM_RETURN_IF_ERROR(update_or_create());
  } else if (lc.creates) {
    TM_ASSIGN_OR_RETURN(auto upserted,
                        db_->UpsertByIdempotencyKey(event, KnownAbsent(event, context)));
    notification_id = upserted.first;
    was_created = upserted.second;
  } else if (lc.updates && lc.group_key.has_value()) {
    TM_RETURN_IF_ERROR(update_or_create());
  } else if (lc.resolves && lc.group_key.has_value()) {
    TM_ASSIGN_OR_RETURN(
        std::optional<int64_t> existing,
        db_->FindByGroupKey(*lc.group_key, GroupValue(event.payload_json, *lc.group_key)));
    if (existing.has_value()) {
      notification_id = *existing;
      TM_ASSIGN_OR_RETURN(bool resolved, db_->ResolveNotification(*existing, event.payload_json));
      (void)resolved;
    }
  }

  if (notification_id.has_value()) {
    context.notification_id = *notification_id;
    NotificationPushInfo push{*notification_id, &event, was_created, is_meaningful, &context};
    for (const NotificationPushFn& callback : push_callbacks_) {
      absl::Status s = callback(push);
      if (!s.ok()) {
        ++push_failures_;
        LOG(ERROR) << "push callback failed for " << event.event << " notification "
                   << *notification_id << ": " << s.message();
      }
    }
  }
  return Verdict::kContinue;
}

}  // namespace teleclaude::mesh
