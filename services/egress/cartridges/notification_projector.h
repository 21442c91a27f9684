// `notification-projector` (DESIGN §4; TeleClaude's
// cartridges/notification.py): applies the schema's lifecycle to the
// `notifications` table of events.db — creates; updates by group key
// (meaningful fields reset human_status to unseen, others do not); upserts
// (creates + updates); resolves by group key — then calls the push callbacks
// with (notification id, type, level, was_created, is_meaningful).
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_NOTIFICATION_PROJECTOR_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_NOTIFICATION_PROJECTOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/cartridge/system_cartridges.h"
#include "common/catalog/event_catalog.h"
#include "services/egress/cartridges/cartridge.h"
#include "services/egress/storage/events_db.h"

namespace teleclaude::mesh {

// What a push callback receives.
struct NotificationPushInfo {
  int64_t notification_id = 0;
  const EventEnvelope* envelope = nullptr;  // the event being projected
  bool was_created = false;
  bool is_meaningful = false;
  const CartridgeContext* context = nullptr;
};

// A push callback. A non-OK status is logged and counted; it does not stop
// the event (as in TeleClaude).
using NotificationPushFn = std::function<absl::Status(const NotificationPushInfo& push)>;

// Thread-compatible (the pipeline worker's thread). `catalog` and `db` are
// not owned and must outlive the cartridge.
class NotificationProjector : public Cartridge {
 public:
  NotificationProjector(const EventCatalog* catalog, EventsDb* db,
                        std::vector<NotificationPushFn> push_callbacks = {})
      : catalog_(catalog), db_(db), push_callbacks_(std::move(push_callbacks)) {}

  std::string_view Name() const override { return kNotificationProjectorCartridge; }
  // Sets context.notification_id to the row created, updated or resolved.
  // Errors: events.db errors.
  absl::StatusOr<Verdict> Process(EventEnvelope& event, CartridgeContext& context) override;

  int64_t push_failures() const { return push_failures_; }

  // Aggregating types (event_schema.h): at most kNewGroupBurst new groups at
  // once, then one more every kNewGroupInterval, per event type.
  static constexpr int kNewGroupBurst = 5;
  static constexpr absl::Duration kNewGroupInterval = absl::Seconds(12);
  static constexpr std::string_view kRateLimitedGroup = "(rate limited)";

 private:
  // The aggregating lifecycle: fold into the group's notification, create
  // one within the new-group budget, or fold into "<type>|(rate limited)".
  absl::Status Aggregate(const EventEnvelope& event, const NotificationLifecycle& lc,
                         const CartridgeContext& context, std::optional<int64_t>* notification_id,
                         bool* was_created);
  // Takes one new-group token of `event_type`'s bucket.
  bool TakeNewGroupToken(const std::string& event_type, absl::Time now);

  struct Bucket {
    double tokens = kNewGroupBurst;
    absl::Time refilled = absl::InfinitePast();
  };
  std::map<std::string, Bucket> buckets_;
  const EventCatalog* const catalog_;
  EventsDb* const db_;
  const std::vector<NotificationPushFn> push_callbacks_;
  int64_t push_failures_ = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_NOTIFICATION_PROJECTOR_H_
