// events.db as release 1 wrote it (schema version 1, doc/events-db.md
// history): the tables the upgrade tests start from. Frozen: never edit.
#ifndef TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_STORAGE_EVENTS_DB_V1_H_
#define TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_STORAGE_EVENTS_DB_V1_H_

namespace teleclaude::mesh::testing {

inline constexpr char kEventsDbV1Schema[] = R"sql(
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
PRAGMA user_version=1;
)sql";

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_STORAGE_EVENTS_DB_V1_H_
