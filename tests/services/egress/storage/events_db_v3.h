// events.db as release 3 left it (schema version 3, doc/events-db.md
// history): release 1's tables (events_db_v1.h) minus the mesh rows of
// `outbox`, plus the delivery core's mesh outbox. processed_inputs is still
// the ledger of seen input keys. The upgrade tests start from it.
// Frozen: never edit.
#ifndef TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_STORAGE_EVENTS_DB_V3_H_
#define TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_STORAGE_EVENTS_DB_V3_H_

namespace teleclaude::mesh::testing {

// Run after kEventsDbV1Schema.
inline constexpr char kEventsDbV3Additions[] = R"sql(
CREATE TABLE outbox_mesh (
    seq INTEGER PRIMARY KEY,
    audience INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    body BLOB NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE outbox_mesh_audiences (
    id INTEGER PRIMARY KEY,
    destinations TEXT NOT NULL UNIQUE
);
CREATE TABLE outbox_mesh_cursors (
    destination TEXT PRIMARY KEY,
    next_seq INTEGER NOT NULL
) WITHOUT ROWID;
PRAGMA user_version=3;
)sql";

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SERVICES_EGRESS_STORAGE_EVENTS_DB_V3_H_
