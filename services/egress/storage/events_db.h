// events.db: egress's SQLite database (doc/events-db.md). The notification
// projection with TeleClaude's columns and statuses (teleclaude/events/db.py),
// and the input keys already seen (the delivery core's SeenIds ledger,
// common/delivery/seen_ids.h: a redelivered input has no second effect). The
// two outboxes live in the same database but belong to the delivery core
// (common/delivery/outbox.h): "mesh" (tables outbox_mesh*; migration 3 moved
// v2's mesh_outbox there) and "push", the installer pushes (outbox_push*;
// migration 5 moved the rows of the old `outbox` table there).
//
// One writer: the pipeline worker owns the EventsDb and calls every method.
// Senders read the outboxes through their own connections.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_STORAGE_EVENTS_DB_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_STORAGE_EVENTS_DB_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/delivery/seen_ids.h"
#include "common/envelope/envelope.h"
#include "common/sqlite/database.h"

namespace teleclaude::mesh {

// One row of `notifications`. Value type.
struct NotificationRow {
  int64_t id = 0;
  std::string event_type;
  int64_t version = 1;
  std::string source;
  int level = 0;
  std::string domain;
  std::string visibility;  // "local" | "cluster" | "public"
  std::optional<std::string> entity;
  std::string description;
  std::string payload_json;  // strict JSON object text
  std::optional<std::string> idempotency_key;
  std::string human_status;  // "unseen" | "seen"
  std::string agent_status;  // "none" | "claimed" | "resolved"
  std::optional<std::string> agent_id;
  std::optional<std::string> resolution_json;
  std::string created_at;  // Python isoformat, UTC ("...+00:00")
  std::string updated_at;
  std::optional<std::string> seen_at;
  std::optional<std::string> claimed_at;
  std::optional<std::string> resolved_at;
};

// Filters of ListNotifications (TeleClaude's list_notifications plus a type
// prefix). Unset = no filter.
struct NotificationFilter {
  std::optional<int> min_level;
  std::optional<std::string> domain;
  std::optional<std::string> human_status;
  std::optional<std::string> agent_status;
  std::optional<std::string> visibility;
  std::optional<std::string> since;  // created_at >= since (text compare)
  std::optional<std::string> event_type_prefix;
  int limit = 50;
  int offset = 0;
};

// Thread-compatible: used by one thread (the pipeline worker).
class EventsDb {
 public:
  // Opens (creating and migrating) the database at `path`, without SQLite's
  // auto-checkpoint: the owner checkpoints (database()->Checkpoint()).
  // `seen_inputs`: how long input keys are remembered (default 7 days) and
  // how they are pruned.
  static absl::StatusOr<std::unique_ptr<EventsDb>> Open(const std::string& path,
                                                        SeenIds::Options seen_inputs = {});

  Database* database() { return db_.get(); }

  // --- seen inputs (doc/events-db.md "seen_ids") --------------------------
  // Records `input_key` (`local:..`, `mesh:..`, `submit:..`; doc/wire.md) as
  // seen now. Returns true when it is new, false when it was already
  // recorded (the input had its effect). REQUIRES: inside the batch
  // transaction.
  absl::StatusOr<bool> MarkInputProcessed(std::string_view input_key) {
    return seen_inputs_.MarkSeen(input_key);
  }
  // The ledger; a WriterChore the pipeline worker runs between rounds to
  // forget keys older than its ttl.
  SeenIds& seen_inputs() { return seen_inputs_; }

  // --- notifications (db.py) ---------------------------------------------
  absl::StatusOr<bool> IdempotencyKeyExists(std::string_view key);
  // The newest notification whose payload's `group_key_field` equals
  // `group_key_value` (json_extract(payload, '$.<field>') = value, as
  // TeleClaude compares it); nullopt when none.
  absl::StatusOr<std::optional<int64_t>> FindByGroupKey(std::string_view group_key_field,
                                                        std::string_view group_key_value);
  // TeleClaude's upsert_by_idempotency_key: when the envelope has a key and a
  // row with it exists, updates its description and payload (-> {id, false});
  // otherwise inserts a new unseen row (-> {id, true}).
  // `known_absent`: the caller looked the key up in this transaction and
  // found no row (skips the lookup).
  absl::StatusOr<std::pair<int64_t, bool>> UpsertByIdempotencyKey(const EventEnvelope& envelope,
                                                                  bool known_absent = false);
  // Sets description and payload (and human_status = unseen when
  // `reset_human_status`). Returns whether the row exists.
  absl::StatusOr<bool> UpdateNotificationFields(int64_t id, std::string_view description,
                                                std::string_view payload_json,
                                                bool reset_human_status);
  // agent_status = resolved, resolution, resolved_at. Returns whether the
  // row exists. `resolution_json` is stored as given (a JSON object).
  absl::StatusOr<bool> ResolveNotification(int64_t id, std::string_view resolution_json);
  // human_status = seen, seen_at. Returns whether the row exists.
  absl::StatusOr<bool> MarkSeen(int64_t id);
  absl::StatusOr<std::optional<NotificationRow>> GetNotification(int64_t id);
  // Newest first (created_at DESC, id DESC).
  absl::StatusOr<std::vector<NotificationRow>> ListNotifications(const NotificationFilter& filter);
  absl::StatusOr<int64_t> CountNotifications();

  // The time text TeleClaude writes (datetime.now(UTC).isoformat()).
  static std::string NowIso();

 private:
  EventsDb(std::unique_ptr<Database> db, SeenIds::Options seen_inputs)
      : db_(std::move(db)), seen_inputs_(db_.get(), seen_inputs) {}

  std::unique_ptr<Database> db_;
  SeenIds seen_inputs_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_STORAGE_EVENTS_DB_H_
