#include "services/egress/storage/events_db.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_split.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/delivery/outbox.h"
#include "common/envelope/timestamp_codec.h"
#include "common/json/json_text.h"

namespace teleclaude::mesh {
namespace {

// Schema: doc/events-db.md. The notifications table and its indexes are
// TeleClaude's (teleclaude/events/db.py); the others are ours.
const std::vector<Migration>& Migrations() {
  static const auto* migrations = new std::vector<Migration>{
      {1, R"sql(
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    source TEXT NOT NULL,
    level INTEGER NOT NULL,
    domain TEXT NOT NULL DEFAULT '',
    visibility TEXT NOT NULL DEFAULT 'local',
    entity TEXT,
    description TEXT NOT NULL DEFAULT '',
    payload TEXT NOT NULL DEFAULT '{}',
    idempotency_key TEXT,
    human_status TEXT NOT NULL DEFAULT 'unseen',
    agent_status TEXT NOT NULL DEFAULT 'none',
    agent_id TEXT,
    resolution TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    seen_at TEXT,
    claimed_at TEXT,
    resolved_at TEXT,
    UNIQUE(idempotency_key)
);
CREATE INDEX IF NOT EXISTS idx_notifications_event_type ON notifications (event_type);
CREATE INDEX IF NOT EXISTS idx_notifications_level ON notifications (level);
CREATE INDEX IF NOT EXISTS idx_notifications_domain ON notifications (domain);
CREATE INDEX IF NOT EXISTS idx_notifications_human_status ON notifications (human_status);
CREATE INDEX IF NOT EXISTS idx_notifications_agent_status ON notifications (agent_status);
CREATE INDEX IF NOT EXISTS idx_notifications_visibility ON notifications (visibility);
CREATE INDEX IF NOT EXISTS idx_notifications_created_at ON notifications (created_at DESC);
CREATE TABLE processed_inputs (
    input_key TEXT PRIMARY KEY,
    processed_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX idx_processed_inputs_at ON processed_inputs (processed_at);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('mesh', 'push')),
    destination TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX idx_outbox_kind_id ON outbox (kind, id);
)sql"},
      // Mesh messages move to mesh_outbox: one row per event (the body
      // once) for all its peers, instead of one row per event and peer.
      // v1 wrote every mesh message id as {me}/{input key}/{peer}, so a v1
      // row becomes a one-peer row whose prefix is the id without the peer.
      {2, R"sql(
CREATE TABLE mesh_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    deliveries INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    peers TEXT NOT NULL,
    message_id_prefix TEXT NOT NULL,
    body BLOB NOT NULL,
    created_at TEXT NOT NULL
);
INSERT INTO mesh_outbox (id, deliveries, done, attempts, peers, message_id_prefix, body,
                         created_at)
    SELECT id, 1, 0, attempts, destination,
           substr(message_id, 1, length(message_id) - length(destination)), body, created_at
    FROM outbox WHERE kind = 'mesh' ORDER BY id;
DELETE FROM outbox WHERE kind = 'mesh';
)sql"},
      // Mesh messages move to the delivery core's per-destination outbox
      // (common/delivery/outbox.h, tables outbox_mesh*): a v2 row lists its
      // peers ' '-separated (v2 names had no space; an audience separates
      // them with '\n'), and keeps its id as seq and
      // its message id prefix; the first `done` peers of a partly finished row
      // (only the oldest row can be one) get a cursor past it.
      {3, Cat(Outbox::Schema("mesh"), R"sql(
INSERT INTO outbox_mesh_audiences (destinations)
    SELECT DISTINCT replace(peers, ' ', char(10)) FROM mesh_outbox;
INSERT INTO outbox_mesh (seq, audience, message_id, body, created_ms)
    SELECT m.id, a.id, m.message_id_prefix, m.body,
           COALESCE(CAST((julianday(m.created_at) - 2440587.5) * 86400000 AS INTEGER), 0)
    FROM mesh_outbox m
    JOIN outbox_mesh_audiences a ON a.destinations = replace(m.peers, ' ', char(10))
    ORDER BY m.id;
WITH RECURSIVE split (id, done, pos, name, rest) AS (
    SELECT id, done, 0, '', peers || ' ' FROM mesh_outbox WHERE done > 0
    UNION ALL
    SELECT id, done, pos + 1, substr(rest, 1, instr(rest, ' ') - 1),
           substr(rest, instr(rest, ' ') + 1)
    FROM split WHERE rest <> '')
INSERT INTO outbox_mesh_cursors (destination, next_seq)
    SELECT name, MIN(id) + 1 FROM split WHERE pos BETWEEN 1 AND done AND name <> ''
    GROUP BY name;
DROP TABLE mesh_outbox;
)sql")},
      // processed_inputs becomes the delivery core's SeenIds table
      // (common/delivery/seen_ids.h). Every input key is carried over as it
      // is (its local:/mesh:/submit: prefix already says its kind) with its
      // time (processed_at was Unix ms already), so an input redelivered
      // right after the upgrade still has no second effect and keys expire
      // by when they were first seen, not by the upgrade.
      {4, Cat(SeenIds::Schema(), R"sql(
INSERT OR IGNORE INTO seen_ids (id, seen_ms)
    SELECT input_key, processed_at FROM processed_inputs;
DROP TABLE processed_inputs;
)sql")},
      // Installer pushes move to the delivery core's outbox "push" (tables
      // outbox_push*): every row still in `outbox` waits for its one
      // destination (finished rows were deleted), so each becomes a message
      // with its id as seq, its push_id and its body (base64, as the new
      // rows are written) — in order, none lost, none sent twice.
      {5, Cat(Outbox::Schema("push"), R"sql(
INSERT INTO outbox_push_audiences (destinations)
    SELECT DISTINCT destination FROM outbox WHERE kind = 'push';
INSERT INTO outbox_push (seq, audience, message_id, body, created_ms)
    SELECT o.id, a.id, o.message_id, o.body,
           COALESCE(CAST(ROUND((julianday(o.created_at) - 2440587.5) * 86400000) AS INTEGER), 0)
    FROM outbox o
    JOIN outbox_push_audiences a ON a.destinations = o.destination
    WHERE o.kind = 'push'
    ORDER BY o.id;
DROP TABLE outbox;
)sql")},
  };
  return *migrations;
}

constexpr std::string_view kSelectColumns =
    "SELECT id, event_type, version, source, level, domain, visibility, entity, description, "
    "payload, idempotency_key, human_status, agent_status, agent_id, resolution, created_at, "
    "updated_at, seen_at, claimed_at, resolved_at FROM notifications";

NotificationRow ReadRow(const Statement& s) {
  NotificationRow r;
  r.id = s.ColumnInt64(0);
  r.event_type = s.ColumnText(1);
  r.version = s.ColumnInt64(2);
  r.source = s.ColumnText(3);
  r.level = static_cast<int>(s.ColumnInt64(4));
  r.domain = s.ColumnText(5);
  r.visibility = s.ColumnText(6);
  r.entity = s.ColumnOptionalText(7);
  r.description = s.ColumnText(8);
  r.payload_json = s.ColumnText(9);
  r.idempotency_key = s.ColumnOptionalText(10);
  r.human_status = s.ColumnText(11);
  r.agent_status = s.ColumnText(12);
  r.agent_id = s.ColumnOptionalText(13);
  r.resolution_json = s.ColumnOptionalText(14);
  r.created_at = s.ColumnText(15);
  r.updated_at = s.ColumnText(16);
  r.seen_at = s.ColumnOptionalText(17);
  r.claimed_at = s.ColumnOptionalText(18);
  r.resolved_at = s.ColumnOptionalText(19);
  return r;
}

// The payload as stored: strict JSON (json_extract must be able to read
// every row, so the non-finite tokens of model text become null).
std::string StoredJson(std::string_view canonical) {
  std::string out;
  out.reserve(canonical.size());
  json::AppendMeshJson(canonical, &out);
  return out;
}

}  // namespace

std::string EventsDb::NowIso() { return FormatTimestampStream(Timestamp::NowUtc()); }

absl::StatusOr<std::unique_ptr<EventsDb>> EventsDb::Open(const std::string& path,
                                                         SeenIds::Options seen_inputs) {
  // The pipeline worker checkpoints (PipelineWorker::MaybeCheckpoint).
  TM_ASSIGN_OR_RETURN(std::unique_ptr<Database> db,
                      Database::Open(path, DatabaseOptions{.auto_checkpoint = false}));
  TM_RETURN_IF_ERROR(db->Migrate(Migrations()));
  return std::unique_ptr<EventsDb>(new EventsDb(std::move(db), seen_inputs));
}

absl::StatusOr<bool> EventsDb::IdempotencyKeyExists(std::string_view key) {
  TM_ASSIGN_OR_RETURN(Statement * s,
                      db_->Cached("SELECT 1 FROM notifications WHERE idempotency_key = ?"));
  s->Bind(1, key);
  TM_ASSIGN_OR_RETURN(bool row, s->Step());
  s->Reset();
  return row;
}

absl::StatusOr<std::optional<int64_t>> EventsDb::FindByGroupKey(std::string_view group_key_field,
                                                                std::string_view group_key_value) {
  TM_ASSIGN_OR_RETURN(Statement * s,
                      db_->Cached("SELECT id FROM notifications WHERE json_extract(payload, ?) = ? "
                                  "ORDER BY created_at DESC, id DESC LIMIT 1"));
  s->Bind(1, Cat("$.", group_key_field)).Bind(2, group_key_value);
  TM_ASSIGN_OR_RETURN(bool row, s->Step());
  std::optional<int64_t> id;
  if (row) id = s->ColumnInt64(0);
  s->Reset();
  return id;
}

absl::StatusOr<std::pair<int64_t, bool>> EventsDb::UpsertByIdempotencyKey(
    const EventEnvelope& envelope, bool known_absent) {
  std::string now = NowIso();
  std::string payload = StoredJson(envelope.payload_json);
  if (!known_absent && envelope.idempotency_key.has_value() && !envelope.idempotency_key->empty()) {
    TM_ASSIGN_OR_RETURN(Statement * find,
                        db_->Cached("SELECT id FROM notifications WHERE idempotency_key = ?"));
    find->Bind(1, *envelope.idempotency_key);
    TM_ASSIGN_OR_RETURN(bool row, find->Step());
    if (row) {
      int64_t id = find->ColumnInt64(0);
      find->Reset();
      TM_ASSIGN_OR_RETURN(
          Statement * update,
          db_->Cached("UPDATE notifications SET description = ?, payload = ?, updated_at = ? "
                      "WHERE id = ?"));
      update->Bind(1, envelope.description).Bind(2, payload).Bind(3, now).Bind(4, id);
      TM_RETURN_IF_ERROR(update->Run());
      return std::make_pair(id, false);
    }
    find->Reset();
  }
  TM_ASSIGN_OR_RETURN(
      Statement * insert,
      db_->Cached("INSERT INTO notifications (event_type, version, source, level, domain, "
                  "visibility, entity, description, payload, idempotency_key, human_status, "
                  "agent_status, created_at, updated_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'unseen', 'none', ?, ?)"));
  insert->Bind(1, envelope.event)
      .Bind(2, envelope.version)
      .Bind(3, envelope.source)
      .Bind(4, static_cast<int64_t>(envelope.level))
      .Bind(5, envelope.domain)
      .Bind(6, VisibilityName(envelope.visibility))
      .Bind(7, envelope.entity)
      .Bind(8, envelope.description)
      .Bind(9, payload);
  if (envelope.idempotency_key.has_value() && !envelope.idempotency_key->empty()) {
    insert->Bind(10, *envelope.idempotency_key);
  } else {
    insert->BindNull(10);
  }
  insert->Bind(11, now).Bind(12, now);
  TM_RETURN_IF_ERROR(insert->Run());
  return std::make_pair(db_->LastInsertRowId(), true);
}

absl::StatusOr<bool> EventsDb::UpdateNotificationFields(int64_t id, std::string_view description,
                                                        std::string_view payload_json,
                                                        bool reset_human_status) {
  TM_ASSIGN_OR_RETURN(
      Statement * s,
      db_->Cached(reset_human_status
                      ? "UPDATE notifications SET description = ?, payload = ?, human_status = "
                        "'unseen', updated_at = ? WHERE id = ?"
                      : "UPDATE notifications SET description = ?, payload = ?, updated_at = ? "
                        "WHERE id = ?"));
  s->Bind(1, description).Bind(2, StoredJson(payload_json)).Bind(3, NowIso()).Bind(4, id);
  TM_RETURN_IF_ERROR(s->Run());
  return db_->Changes() > 0;
}

absl::StatusOr<bool> EventsDb::ResolveNotification(int64_t id, std::string_view resolution_json) {
  std::string now = NowIso();
  TM_ASSIGN_OR_RETURN(
      Statement * s,
      db_->Cached("UPDATE notifications SET agent_status = 'resolved', resolution = ?, "
                  "resolved_at = ?, updated_at = ? WHERE id = ?"));
  s->Bind(1, StoredJson(resolution_json)).Bind(2, now).Bind(3, now).Bind(4, id);
  TM_RETURN_IF_ERROR(s->Run());
  return db_->Changes() > 0;
}

absl::StatusOr<bool> EventsDb::MarkSeen(int64_t id) {
  std::string now = NowIso();
  TM_ASSIGN_OR_RETURN(Statement * s,
                      db_->Cached("UPDATE notifications SET human_status = 'seen', seen_at = ?, "
                                  "updated_at = ? WHERE id = ?"));
  s->Bind(1, now).Bind(2, now).Bind(3, id);
  TM_RETURN_IF_ERROR(s->Run());
  return db_->Changes() > 0;
}

absl::StatusOr<std::optional<NotificationRow>> EventsDb::GetNotification(int64_t id) {
  TM_ASSIGN_OR_RETURN(Statement * s, db_->Cached(Cat(kSelectColumns, " WHERE id = ?")));
  s->Bind(1, id);
  TM_ASSIGN_OR_RETURN(bool row, s->Step());
  std::optional<NotificationRow> out;
  if (row) out = ReadRow(*s);
  s->Reset();
  return out;
}

absl::StatusOr<std::vector<NotificationRow>> EventsDb::ListNotifications(
    const NotificationFilter& filter) {
  std::string sql(kSelectColumns);
  std::vector<std::string> text_params;
  std::vector<std::string> conditions;
  if (filter.min_level.has_value()) conditions.push_back(Cat("level >= ", *filter.min_level));
  auto add_text = [&](const std::optional<std::string>& value, std::string_view condition) {
    if (!value.has_value()) return;
    conditions.emplace_back(condition);
    text_params.push_back(*value);
  };
  add_text(filter.domain, "domain = ?");
  add_text(filter.human_status, "human_status = ?");
  add_text(filter.agent_status, "agent_status = ?");
  add_text(filter.visibility, "visibility = ?");
  add_text(filter.since, "created_at >= ?");
  if (filter.event_type_prefix.has_value() && !filter.event_type_prefix->empty()) {
    conditions.emplace_back("substr(event_type, 1, ?) = ?");
  }
  for (size_t i = 0; i < conditions.size(); ++i) {
    sql += i == 0 ? " WHERE " : " AND ";
    sql += conditions[i];
  }
  sql += " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?";
  TM_ASSIGN_OR_RETURN(Statement s, db_->Prepare(sql));
  int index = 1;
  for (const std::string& p : text_params) s.Bind(index++, p);
  if (filter.event_type_prefix.has_value() && !filter.event_type_prefix->empty()) {
    s.Bind(index++, static_cast<int64_t>(filter.event_type_prefix->size()));
    s.Bind(index++, *filter.event_type_prefix);
  }
  s.Bind(index++, static_cast<int64_t>(filter.limit));
  s.Bind(index++, static_cast<int64_t>(filter.offset));
  std::vector<NotificationRow> rows;
  while (true) {
    TM_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    rows.push_back(ReadRow(s));
  }
  return rows;
}

absl::StatusOr<int64_t> EventsDb::CountNotifications() {
  TM_ASSIGN_OR_RETURN(Statement * s, db_->Cached("SELECT COUNT(*) FROM notifications"));
  TM_ASSIGN_OR_RETURN(bool row, s->Step());
  int64_t n = row ? s->ColumnInt64(0) : 0;
  s->Reset();
  return n;
}

}  // namespace teleclaude::mesh
