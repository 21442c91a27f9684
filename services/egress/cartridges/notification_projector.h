// `notification-projector` (DESIGN §4; TeleClaude's
// cartridges/notification.py): applies the schema's lifecycle to the
// `notifications` table of events.db — creates; updates by group key
// (meaningful fields reset human_status to unseen, others do not); upserts
// (creates + updates); resolves by group key — then calls the push callbacks
// with (notification id, type, level, was_created, is_meaningful).
// Types the aggregator knows (per-message failures) are counted into one
// row per sender and reason instead (notification_aggregator.h).
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_NOTIFICATION_PROJECTOR_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_NOTIFICATION_PROJECTOR_H_

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/cartridge/system_cartridges.h"
#include "common/catalog/event_catalog.h"
#include "services/egress/cartridges/cartridge.h"
#include "services/egress/cartridges/notification_aggregator.h"
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

// Thread-compatible (the pipeline worker's thread). `catalog`, `db` and
// `aggregator` (nullable: nothing aggregates) are not owned and must outlive
// the cartridge.
class NotificationProjector : public Cartridge {
 public:
  NotificationProjector(const EventCatalog* catalog, EventsDb* db,
                        std::vector<NotificationPushFn> push_callbacks = {},
                        NotificationAggregator* aggregator = nullptr)
      : catalog_(catalog),
        db_(db),
        push_callbacks_(std::move(push_callbacks)),
        aggregator_(aggregator) {}

  std::string_view Name() const override { return kNotificationProjectorCartridge; }
  // Sets context.notification_id to the row created, updated or resolved.
  // Errors: events.db errors.
  absl::StatusOr<Verdict> Process(EventEnvelope& event, CartridgeContext& context) override;

  int64_t push_failures() const { return push_failures_; }

 private:
  const EventCatalog* const catalog_;
  EventsDb* const db_;
  const std::vector<NotificationPushFn> push_callbacks_;
  NotificationAggregator* const aggregator_;
  int64_t push_failures_ = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_CARTRIDGES_NOTIFICATION_PROJECTOR_H_
