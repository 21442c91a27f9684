// events.db: egress's SQLite database (doc/events-db.md). The notification
// projection with TeleClaude's columns and statuses (teleclaude/events/db.py),
// the processed inputs (a redelivered input has no second effect) and the
// persistent outbox of mesh messages and installer pushes.
//
// One writer: the pipeline worker owns the EventsDb and calls every method.
// Senders read the outbox through their own connection (ReadOutbox()).
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_EVENTS_DB_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_EVENTS_DB_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

enum class OutboxKind { kMesh, kPush };
// "mesh" / "push".
std::string_view OutboxKindName(OutboxKind kind);

// One row of `outbox`. Value type.
struct OutboxRow {
  int64_t id = 0;
  OutboxKind kind = OutboxKind::kMesh;
  std::string destination;  // mesh: the peer's computer name; push: "installer"
  std::string message_id;   // mesh: the message_id field; push: the push_id
  std::string body;         // mesh: envelope JSON; push: a serialized NotificationPush
  int64_t attempts = 0;
};

// Thread-compatible: used by one thread (the pipeline worker).
class EventsDb {
 public:
  // Opens (creating and migrating) the database at `path`.
  static absl::StatusOr<std::unique_ptr<EventsDb>> Open(const std::string& path);

  Database* database() { return db_.get(); }

  // --- processed inputs ---------------------------------------------------
  // Records `input_key` as processed at `now_ms` (Unix ms). Returns true when
  // it is new, false when it was already recorded (the input had its
  // effect). REQUIRES: inside the batch transaction.
  absl::StatusOr<bool> MarkInputProcessed(std::string_view input_key, int64_t now_ms);
  // Deletes at most `limit` entries processed before `before_ms`; returns the
  // number deleted.
  absl::StatusOr<int64_t> PruneProcessedInputs(int64_t before_ms, int limit);

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

  // --- outbox --------------------------------------------------------------
  // Appends a row; returns its id (ids only grow).
  absl::StatusOr<int64_t> AddOutbox(OutboxKind kind, std::string_view destination,
                                    std::string_view message_id, std::string_view body);
  // Returns how many rows were deleted.
  absl::StatusOr<int64_t> DeleteOutbox(const std::vector<int64_t>& ids);
  // attempts += 1 for `ids`.
  absl::Status CountOutboxAttempt(const std::vector<int64_t>& ids);
  absl::StatusOr<int64_t> CountOutbox(OutboxKind kind);
  // Deletes the `count` oldest rows of `kind`; returns how many were deleted.
  absl::StatusOr<int64_t> DropOldestOutbox(OutboxKind kind, int64_t count);

  // Rows of `kind` with id > after_id, oldest first, at most `limit`. Works on
  // any connection to events.db (senders use their own, read-only use).
  static absl::StatusOr<std::vector<OutboxRow>> ReadOutbox(Database* db, OutboxKind kind,
                                                           int64_t after_id, int limit);

  // The time text TeleClaude writes (datetime.now(UTC).isoformat()).
  static std::string NowIso();

 private:
  explicit EventsDb(std::unique_ptr<Database> db) : db_(std::move(db)) {}

  std::unique_ptr<Database> db_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_EVENTS_DB_H_
