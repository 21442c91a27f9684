#include "services/installer/installer_db.h"

#include <fcntl.h>
#include <unistd.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/delivery/outbox.h"
#include "common/json/json_text.h"
#include "common/json/reader.h"
#include "common/json/writer.h"
#include "common/sqlite/transaction.h"
#include "rapidjson/document.h"

namespace teleclaude::mesh {

// doc/installer-db.md describes every table and column.
const std::vector<Migration>& InstallerDbMigrations() {
  static const auto* migrations = new std::vector<Migration>{
      {1, R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE cartridges (
  id                      INTEGER PRIMARY KEY AUTOINCREMENT,
  name                    TEXT NOT NULL,
  sha256                  TEXT NOT NULL,
  version                 TEXT NOT NULL,
  author                  TEXT NOT NULL,
  event_type              TEXT NOT NULL DEFAULT '',
  runtime                 TEXT NOT NULL,
  entry_point             TEXT NOT NULL DEFAULT '',
  dependencies            TEXT NOT NULL DEFAULT '[]',
  description             TEXT NOT NULL DEFAULT '',
  source                  TEXT NOT NULL,
  source_computer         TEXT NOT NULL DEFAULT '',
  status                  TEXT NOT NULL CHECK (status IN
                            ('pending','active','rejected','superseded','suspended','failed')),
  decided_by              TEXT NOT NULL DEFAULT '',
  decided_at              TEXT NOT NULL DEFAULT '',
  reason                  TEXT NOT NULL DEFAULT '',
  notification_ids        TEXT NOT NULL DEFAULT '[]',
  pending_notification_id INTEGER NOT NULL DEFAULT 0,
  activation_order        INTEGER NOT NULL DEFAULT 0,
  created_at              TEXT NOT NULL,
  updated_at              TEXT NOT NULL,
  UNIQUE (name, sha256)
);
CREATE INDEX cartridges_by_status ON cartridges (status, activation_order);
CREATE INDEX cartridges_by_pending_notification ON cartridges (pending_notification_id);
CREATE TABLE cartridge_audit (
  id     INTEGER PRIMARY KEY AUTOINCREMENT,
  at     TEXT NOT NULL,
  name   TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  action TEXT NOT NULL,
  actor  TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX cartridge_audit_by_name ON cartridge_audit (name, id);
CREATE TRIGGER cartridge_audit_append_only_update BEFORE UPDATE ON cartridge_audit
  BEGIN SELECT RAISE(ABORT, 'cartridge_audit is append-only'); END;
CREATE TRIGGER cartridge_audit_append_only_delete BEFORE DELETE ON cartridge_audit
  BEGIN SELECT RAISE(ABORT, 'cartridge_audit is append-only'); END;
CREATE TABLE cartridge_stats (
  cartridge_name         TEXT PRIMARY KEY,
  invocation_count       INTEGER NOT NULL DEFAULT 0,
  last_invoked_at        TEXT,
  promotion_suggested_at TEXT
);
CREATE TABLE applied_invocation_batches (
  batch_id   TEXT PRIMARY KEY,
  applied_at TEXT NOT NULL
);
CREATE INDEX applied_invocation_batches_by_time ON applied_invocation_batches (applied_at);
CREATE TABLE handled_pushes (
  push_id    TEXT PRIMARY KEY,
  handled_at TEXT NOT NULL
);
CREATE INDEX handled_pushes_by_time ON handled_pushes (handled_at);
CREATE TABLE outbox (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  kind             TEXT NOT NULL CHECK (kind IN ('submit','resolve','reload')),
  event_type       TEXT NOT NULL DEFAULT '',
  envelope_json    TEXT NOT NULL DEFAULT '',
  cartridge_name   TEXT NOT NULL DEFAULT '',
  cartridge_sha256 TEXT NOT NULL DEFAULT '',
  notification_id  INTEGER NOT NULL DEFAULT 0,
  resolution_json  TEXT NOT NULL DEFAULT '',
  attempts         INTEGER NOT NULL DEFAULT 0,
  last_error       TEXT NOT NULL DEFAULT '',
  created_at       TEXT NOT NULL
);
)sql"},
      // 2: status 'inactive' (Deactivate). SQLite cannot change a CHECK
      // constraint in place: the table is rebuilt with the same rows and ids.
      {2, R"sql(
CREATE TABLE cartridges_v2 (
  id                      INTEGER PRIMARY KEY AUTOINCREMENT,
  name                    TEXT NOT NULL,
  sha256                  TEXT NOT NULL,
  version                 TEXT NOT NULL,
  author                  TEXT NOT NULL,
  event_type              TEXT NOT NULL DEFAULT '',
  runtime                 TEXT NOT NULL,
  entry_point             TEXT NOT NULL DEFAULT '',
  dependencies            TEXT NOT NULL DEFAULT '[]',
  description             TEXT NOT NULL DEFAULT '',
  source                  TEXT NOT NULL,
  source_computer         TEXT NOT NULL DEFAULT '',
  status                  TEXT NOT NULL CHECK (status IN
                            ('pending','active','rejected','superseded','suspended','failed',
                             'inactive')),
  decided_by              TEXT NOT NULL DEFAULT '',
  decided_at              TEXT NOT NULL DEFAULT '',
  reason                  TEXT NOT NULL DEFAULT '',
  notification_ids        TEXT NOT NULL DEFAULT '[]',
  pending_notification_id INTEGER NOT NULL DEFAULT 0,
  activation_order        INTEGER NOT NULL DEFAULT 0,
  created_at              TEXT NOT NULL,
  updated_at              TEXT NOT NULL,
  UNIQUE (name, sha256)
);
INSERT INTO cartridges_v2 SELECT * FROM cartridges;
DROP TABLE cartridges;
ALTER TABLE cartridges_v2 RENAME TO cartridges;
CREATE INDEX cartridges_by_status ON cartridges (status, activation_order);
CREATE INDEX cartridges_by_pending_notification ON cartridges (pending_notification_id);
)sql"},
      // 3: who wrote it (doc/security.md §10.5): the outcome of checking the
      // author's signature. Rows of before were never checked: unsigned, and
      // the message says so.
      {3, R"sql(
ALTER TABLE cartridges ADD COLUMN signature TEXT NOT NULL DEFAULT 'unsigned'
  CHECK (signature IN ('verified','unsigned','bad_signature','unknown_author','key_mismatch'));
ALTER TABLE cartridges ADD COLUMN signature_message TEXT NOT NULL DEFAULT '';
ALTER TABLE cartridges ADD COLUMN author_fingerprint TEXT NOT NULL DEFAULT '';
UPDATE cartridges SET signature_message =
  'registered before this installer checked signatures (installer.db migration 3)';
)sql"},
      // 4: the two "already handled" ledgers become the delivery core's one
      // SeenIds table (common/delivery/seen_ids.h). Every id is carried over
      // with its time (ISO 8601 -> Unix ms; an unreadable time counts as now,
      // so the id is kept a whole window rather than forgotten), so a push
      // redelivered right after the upgrade is still recognised.
      {4, SeenIds::Schema() + R"sql(
INSERT OR IGNORE INTO seen_ids (id, seen_ms)
  SELECT 'push:' || push_id,
         COALESCE(CAST(ROUND((julianday(handled_at) - 2440587.5) * 86400000) AS INTEGER),
                  CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
  FROM handled_pushes;
INSERT OR IGNORE INTO seen_ids (id, seen_ms)
  SELECT 'invocations:' || batch_id,
         COALESCE(CAST(ROUND((julianday(applied_at) - 2440587.5) * 86400000) AS INTEGER),
                  CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
  FROM applied_invocation_batches;
DROP TABLE handled_pushes;
DROP TABLE applied_invocation_batches;
)sql"},
      // 5: what egress must be told moves to the delivery core's Outbox
      // (common/delivery/outbox.h), destination "egress". Rows waiting are
      // carried over in order, keeping their message ids
      // ("installer:{instance_id}:" + their id as seq): a row egress already
      // took before the upgrade is dropped by egress as a copy. New rows get
      // "installer:{instance_id}:o" + seq, so they never reuse an old id.
      {5, Outbox::Schema(kEgressOutboxName) + R"sql(
INSERT INTO outbox_egress_audiences (id, destinations)
  SELECT 1, 'egress' WHERE EXISTS (SELECT 1 FROM outbox);
INSERT INTO outbox_egress (seq, audience, message_id, body, created_ms)
  SELECT id, 1, 'installer:' || (SELECT value FROM meta WHERE key = 'instance_id') || ':',
         json_object('kind', kind, 'event_type', event_type, 'envelope_json', envelope_json,
                     'cartridge_name', cartridge_name, 'cartridge_sha256', cartridge_sha256,
                     'notification_id', notification_id, 'resolution_json', resolution_json),
         COALESCE(CAST(ROUND((julianday(created_at) - 2440587.5) * 86400000) AS INTEGER),
                  CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER))
  FROM outbox ORDER BY id;
DROP TABLE outbox;
)sql"},
  };
  return *migrations;
}

namespace {

constexpr std::string_view kRecordColumns =
    "id, name, sha256, version, author, event_type, runtime, entry_point, dependencies, "
    "description, source_computer, status, decided_by, decided_at, reason, notification_ids, "
    "pending_notification_id, activation_order, created_at, updated_at, signature, "
    "signature_message, author_fingerprint";

std::string StringListJson(const std::vector<std::string>& values) {
  std::string out;
  json::Writer(&out).StringList(values);
  return out;
}

std::string IntListJson(const std::vector<int64_t>& values) {
  std::string out;
  json::Writer w(&out);
  w.BeginArray();
  for (int64_t v : values) w.Int(v);
  w.EndArray();
  return out;
}

std::vector<std::string> ParseStringList(const std::string& text) {
  std::vector<std::string> out;
  rapidjson::Document doc;
  if (!json::ParseDocument(text, "list", &doc).ok() || !doc.IsArray()) return out;
  for (const auto& v : doc.GetArray()) {
    if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

std::vector<int64_t> ParseIntList(const std::string& text) {
  std::vector<int64_t> out;
  rapidjson::Document doc;
  if (!json::ParseDocument(text, "list", &doc).ok() || !doc.IsArray()) return out;
  for (const auto& v : doc.GetArray()) {
    if (v.IsInt64()) out.push_back(v.GetInt64());
  }
  return out;
}

std::string RandomHex(size_t bytes) {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    unsigned v = rd() & 0xff;
    out.push_back(kHex[v >> 4]);
    out.push_back(kHex[v & 0xf]);
  }
  return out;
}

CartridgeRecord ReadRecord(const Statement& st, bool with_source) {
  CartridgeRecord r;
  r.id = st.ColumnInt64(0);
  r.cartridge.name = st.ColumnText(1);
  r.cartridge.sha256 = st.ColumnText(2);
  r.cartridge.version = st.ColumnText(3);
  r.cartridge.author = st.ColumnText(4);
  r.cartridge.event_type = st.ColumnText(5);
  r.cartridge.runtime = st.ColumnText(6);
  r.cartridge.entry_point = st.ColumnText(7);
  r.cartridge.dependencies = ParseStringList(st.ColumnText(8));
  r.cartridge.description = st.ColumnText(9);
  r.cartridge.source_computer = st.ColumnText(10);
  r.status = ParseRegistryStatus(st.ColumnText(11)).value_or(RegistryStatus::kFailed);
  r.decided_by = st.ColumnText(12);
  r.decided_at = st.ColumnText(13);
  r.reason = st.ColumnText(14);
  r.notification_ids = ParseIntList(st.ColumnText(15));
  r.pending_notification_id = st.ColumnInt64(16);
  r.activation_order = st.ColumnInt64(17);
  r.created_at = st.ColumnText(18);
  r.updated_at = st.ColumnText(19);
  // An unknown value (an edited file) is shown as not verified.
  r.signature.status =
      ParseSignatureStatus(st.ColumnText(20)).value_or(SignatureStatus::kBadSignature);
  r.signature.message = st.ColumnText(21);
  r.signature.author_fingerprint = st.ColumnText(22);
  if (with_source) r.cartridge.source = st.ColumnText(23);
  return r;
}

}  // namespace

std::string_view RegistryStatusName(RegistryStatus status) {
  switch (status) {
    case RegistryStatus::kPending:
      return "pending";
    case RegistryStatus::kActive:
      return "active";
    case RegistryStatus::kRejected:
      return "rejected";
    case RegistryStatus::kSuperseded:
      return "superseded";
    case RegistryStatus::kSuspended:
      return "suspended";
    case RegistryStatus::kFailed:
      return "failed";
    case RegistryStatus::kInactive:
      return "inactive";
  }
  return "failed";
}

std::optional<RegistryStatus> ParseRegistryStatus(std::string_view name) {
  for (RegistryStatus s :
       {RegistryStatus::kPending, RegistryStatus::kActive, RegistryStatus::kRejected,
        RegistryStatus::kSuperseded, RegistryStatus::kSuspended, RegistryStatus::kFailed,
        RegistryStatus::kInactive}) {
    if (RegistryStatusName(s) == name) return s;
  }
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<InstallerDb>> InstallerDb::Open(const std::filesystem::path& path,
                                                               SeenIds::Options seen_ids) {
  TM_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path.string()));
  TM_RETURN_IF_ERROR(db->Migrate(InstallerDbMigrations()));
  std::unique_ptr<InstallerDb> out(new InstallerDb(std::move(db), seen_ids));
  TM_ASSIGN_OR_RETURN(out->schema_version_, out->db_->UserVersion());
  TM_RETURN_IF_ERROR(out->LoadInstanceId());
  return out;
}

InstallerDb::InstallerDb(std::unique_ptr<Database> db, SeenIds::Options seen_ids)
    : db_(std::move(db)), seen_ids_(db_.get(), seen_ids) {}

InstallerDb::~InstallerDb() = default;

absl::Status InstallerDb::LoadInstanceId() {
  TM_ASSIGN_OR_RETURN(Statement insert,
                      db_->Prepare("INSERT OR IGNORE INTO meta (key, value) VALUES "
                                   "('instance_id', ?1)"));
  TM_RETURN_IF_ERROR(insert.Bind(1, RandomHex(8)).Run());
  TM_ASSIGN_OR_RETURN(Statement select,
                      db_->Prepare("SELECT value FROM meta WHERE key = 'instance_id'"));
  TM_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::InternalError(Cat(db_->path(), ": meta.instance_id missing"));
  instance_id_ = select.ColumnText(0);
  return absl::OkStatus();
}

absl::Status InstallerDb::InTransaction(absl::FunctionRef<absl::Status()> body) {
  TM_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));
  TM_RETURN_IF_ERROR(body());
  return tx.Commit();
}

// --- pushes

absl::StatusOr<bool> InstallerDb::IsPushHandled(std::string_view push_id) {
  return seen_ids_.Contains(Cat(kPushIdPrefix, push_id));
}

absl::StatusOr<bool> InstallerDb::MarkPushHandled(std::string_view push_id) {
  return seen_ids_.MarkSeen(Cat(kPushIdPrefix, push_id));
}

// --- registry

absl::StatusOr<std::vector<CartridgeRecord>> InstallerDb::QueryRecords(
    std::string_view where_and_order, bool with_source, absl::FunctionRef<void(Statement&)> bind) {
  std::string sql = Cat("SELECT ", kRecordColumns, with_source ? ", source" : "",
                        " FROM cartridges ", where_and_order);
  TM_ASSIGN_OR_RETURN(Statement * st, db_->Cached(sql));
  bind(*st);
  std::vector<CartridgeRecord> out;
  for (;;) {
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) {
      st->Reset();
      return row.status();
    }
    if (!*row) break;
    out.push_back(ReadRecord(*st, with_source));
  }
  st->Reset();
  return out;
}

absl::StatusOr<std::optional<CartridgeRecord>> InstallerDb::Find(std::string_view name,
                                                                 std::string_view sha256) {
  TM_ASSIGN_OR_RETURN(std::vector<CartridgeRecord> rows,
                      QueryRecords("WHERE name = ?1 AND sha256 = ?2", true,
                                   [&](Statement& st) { st.Bind(1, name).Bind(2, sha256); }));
  if (rows.empty()) return std::optional<CartridgeRecord>();
  return std::optional<CartridgeRecord>(std::move(rows.front()));
}

absl::StatusOr<std::vector<CartridgeRecord>> InstallerDb::FindByName(std::string_view name) {
  return QueryRecords("WHERE name = ?1 ORDER BY id DESC", true,
                      [&](Statement& st) { st.Bind(1, name); });
}

absl::StatusOr<std::optional<CartridgeRecord>> InstallerDb::FindByPendingNotification(
    int64_t notification_id) {
  TM_ASSIGN_OR_RETURN(std::vector<CartridgeRecord> rows,
                      QueryRecords("WHERE pending_notification_id = ?1 ORDER BY id DESC LIMIT 1",
                                   true, [&](Statement& st) { st.Bind(1, notification_id); }));
  if (rows.empty()) return std::optional<CartridgeRecord>();
  return std::optional<CartridgeRecord>(std::move(rows.front()));
}

absl::StatusOr<std::vector<CartridgeRecord>> InstallerDb::List(bool with_source) {
  return QueryRecords("ORDER BY name, id", with_source, [](Statement&) {});
}

absl::StatusOr<std::vector<CartridgeRecord>> InstallerDb::ListActive() {
  return QueryRecords("WHERE status = 'active' ORDER BY activation_order, id", true,
                      [](Statement&) {});
}

absl::StatusOr<int64_t> InstallerDb::CountWithStatus(RegistryStatus status) {
  TM_ASSIGN_OR_RETURN(Statement * st,
                      db_->Cached("SELECT COUNT(*) FROM cartridges WHERE status = ?1"));
  st->Bind(1, RegistryStatusName(status));
  TM_ASSIGN_OR_RETURN(bool row, st->Step());
  int64_t n = row ? st->ColumnInt64(0) : 0;
  st->Reset();
  return n;
}

absl::StatusOr<int64_t> InstallerDb::Insert(const CartridgeRecord& r) {
  TM_ASSIGN_OR_RETURN(
      Statement * st,
      db_->Cached("INSERT INTO cartridges (name, sha256, version, author, event_type, runtime, "
                  "entry_point, dependencies, description, source, source_computer, status, "
                  "decided_by, decided_at, reason, notification_ids, pending_notification_id, "
                  "activation_order, created_at, updated_at, signature, signature_message, "
                  "author_fingerprint) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                  "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)"));
  const CartridgeCandidate& c = r.cartridge;
  st->Bind(1, c.name)
      .Bind(2, c.sha256)
      .Bind(3, c.version)
      .Bind(4, c.author)
      .Bind(5, c.event_type)
      .Bind(6, c.runtime)
      .Bind(7, c.entry_point)
      .Bind(8, StringListJson(c.dependencies))
      .Bind(9, c.description)
      .Bind(10, c.source)
      .Bind(11, c.source_computer)
      .Bind(12, RegistryStatusName(r.status))
      .Bind(13, r.decided_by)
      .Bind(14, r.decided_at)
      .Bind(15, r.reason)
      .Bind(16, IntListJson(r.notification_ids))
      .Bind(17, r.pending_notification_id)
      .Bind(18, r.activation_order)
      .Bind(19, r.created_at)
      .Bind(20, r.updated_at)
      .Bind(21, SignatureStatusName(r.signature.status))
      .Bind(22, r.signature.message)
      .Bind(23, r.signature.author_fingerprint);
  TM_RETURN_IF_ERROR(st->Run());
  return db_->LastInsertRowId();
}

absl::Status InstallerDb::Update(const CartridgeRecord& r) {
  TM_ASSIGN_OR_RETURN(
      Statement * st,
      db_->Cached("UPDATE cartridges SET status = ?2, decided_by = ?3, decided_at = ?4, "
                  "reason = ?5, notification_ids = ?6, pending_notification_id = ?7, "
                  "activation_order = ?8, updated_at = ?9 WHERE id = ?1"));
  st->Bind(1, r.id)
      .Bind(2, RegistryStatusName(r.status))
      .Bind(3, r.decided_by)
      .Bind(4, r.decided_at)
      .Bind(5, r.reason)
      .Bind(6, IntListJson(r.notification_ids))
      .Bind(7, r.pending_notification_id)
      .Bind(8, r.activation_order)
      .Bind(9, r.updated_at);
  TM_RETURN_IF_ERROR(st->Run());
  if (db_->Changes() != 1) {
    return absl::NotFoundError(Cat(db_->path(), ": no cartridges row with id ", r.id));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> InstallerDb::DeleteByName(std::string_view name) {
  TM_ASSIGN_OR_RETURN(Statement * st, db_->Cached("DELETE FROM cartridges WHERE name = ?1"));
  TM_RETURN_IF_ERROR(st->Bind(1, name).Run());
  return db_->Changes();
}

absl::StatusOr<int64_t> InstallerDb::NextActivationOrder() {
  TM_ASSIGN_OR_RETURN(Statement * st,
                      db_->Cached("SELECT COALESCE(MAX(activation_order), 0) + 1 FROM cartridges"));
  TM_ASSIGN_OR_RETURN(bool row, st->Step());
  int64_t n = row ? st->ColumnInt64(0) : 1;
  st->Reset();
  return n;
}

// --- audit

absl::Status InstallerDb::AddAudit(const AuditEntry& e) {
  TM_ASSIGN_OR_RETURN(Statement * st,
                      db_->Cached("INSERT INTO cartridge_audit (at, name, sha256, action, actor, "
                                  "reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  return st->Bind(1, e.at)
      .Bind(2, e.name)
      .Bind(3, e.sha256)
      .Bind(4, e.action)
      .Bind(5, e.actor)
      .Bind(6, e.reason)
      .Run();
}

absl::StatusOr<std::vector<AuditEntry>> InstallerDb::ListAudit(std::string_view name) {
  TM_ASSIGN_OR_RETURN(Statement * st,
                      db_->Cached("SELECT id, at, name, sha256, action, actor, reason FROM "
                                  "cartridge_audit WHERE ?1 = '' OR name = ?1 ORDER BY id"));
  st->Bind(1, name);
  std::vector<AuditEntry> out;
  for (;;) {
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) {
      st->Reset();
      return row.status();
    }
    if (!*row) break;
    out.push_back({st->ColumnInt64(0), st->ColumnText(1), st->ColumnText(2), st->ColumnText(3),
                   st->ColumnText(4), st->ColumnText(5), st->ColumnText(6)});
  }
  st->Reset();
  return out;
}

// --- stats

absl::StatusOr<bool> InstallerDb::MarkBatchApplied(std::string_view batch_id) {
  return seen_ids_.MarkSeen(Cat(kInvocationBatchIdPrefix, batch_id));
}

absl::StatusOr<std::optional<CartridgeStatRow>> InstallerDb::GetStat(std::string_view name) {
  TM_ASSIGN_OR_RETURN(Statement * st,
                      db_->Cached("SELECT cartridge_name, invocation_count, last_invoked_at, "
                                  "promotion_suggested_at FROM cartridge_stats WHERE "
                                  "cartridge_name = ?1"));
  st->Bind(1, name);
  TM_ASSIGN_OR_RETURN(bool row, st->Step());
  std::optional<CartridgeStatRow> out;
  if (row) {
    out = CartridgeStatRow{st->ColumnText(0), st->ColumnInt64(1),
                           st->ColumnOptionalText(2).value_or(""),
                           st->ColumnOptionalText(3).value_or("")};
  }
  st->Reset();
  return out;
}

absl::Status InstallerDb::PutStat(const CartridgeStatRow& row) {
  TM_ASSIGN_OR_RETURN(
      Statement * st,
      db_->Cached("INSERT INTO cartridge_stats (cartridge_name, invocation_count, "
                  "last_invoked_at, promotion_suggested_at) VALUES (?1, ?2, ?3, ?4) "
                  "ON CONFLICT (cartridge_name) DO UPDATE SET invocation_count = "
                  "excluded.invocation_count, last_invoked_at = excluded.last_invoked_at, "
                  "promotion_suggested_at = excluded.promotion_suggested_at"));
  auto opt = [](const std::string& s) {
    return s.empty() ? std::optional<std::string>() : std::optional<std::string>(s);
  };
  return st->Bind(1, row.cartridge_name)
      .Bind(2, row.invocation_count)
      .Bind(3, opt(row.last_invoked_at))
      .Bind(4, opt(row.promotion_suggested_at))
      .Run();
}

absl::StatusOr<std::vector<CartridgeStatRow>> InstallerDb::ListStats() {
  TM_ASSIGN_OR_RETURN(Statement * st,
                      db_->Cached("SELECT cartridge_name, invocation_count, last_invoked_at, "
                                  "promotion_suggested_at FROM cartridge_stats ORDER BY "
                                  "cartridge_name"));
  std::vector<CartridgeStatRow> out;
  for (;;) {
    absl::StatusOr<bool> row = st->Step();
    if (!row.ok()) {
      st->Reset();
      return row.status();
    }
    if (!*row) break;
    out.push_back({st->ColumnText(0), st->ColumnInt64(1), st->ColumnOptionalText(2).value_or(""),
                   st->ColumnOptionalText(3).value_or("")});
  }
  st->Reset();
  return out;
}

}  // namespace teleclaude::mesh
