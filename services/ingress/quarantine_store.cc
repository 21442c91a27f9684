#include "services/ingress/quarantine_store.h"

#include <utility>

#include "common/base/status_macros.h"
#include "common/envelope/json_codec.h"
#include "common/envelope/timestamp_codec.h"
#include "common/json/json_text.h"
#include "common/json/writer.h"
#include "common/sqlite/statement.h"
#include "common/sqlite/transaction.h"

namespace teleclaude::mesh {
namespace {

// doc/ingress.md "ingress.db". TeleClaude's columns first (events/db.py),
// then ours: the sender and the stream entry (unique, for replays).
const std::vector<Migration>& Migrations() {
  static const std::vector<Migration>* migrations = new std::vector<Migration>{
      {1, R"sql(
CREATE TABLE quarantined_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type TEXT NOT NULL,
    source TEXT NOT NULL,
    received_at TEXT NOT NULL,
    envelope_json TEXT NOT NULL,
    trust_flags TEXT NOT NULL DEFAULT '[]',
    reviewed INTEGER NOT NULL DEFAULT 0,
    source_computer TEXT NOT NULL DEFAULT '',
    stream_entry_id TEXT NOT NULL UNIQUE
);
CREATE INDEX idx_quarantined_reviewed ON quarantined_events (reviewed, received_at DESC);
)sql"},
  };
  return *migrations;
}

std::string FlagsJson(const std::vector<std::string>& flags) {
  std::string out;
  json::Writer(&out).StringList(flags);
  return out;
}

// The strings of the JSON array FlagsJson wrote (flags are plain tokens;
// escapes are undone one character at a time).
std::vector<std::string> ParseFlags(const std::string& text) {
  std::vector<std::string> flags;
  size_t pos = 0;
  while ((pos = text.find('"', pos)) != std::string::npos) {
    size_t end = pos + 1;
    std::string flag;
    while (end < text.size() && text[end] != '"') {
      if (text[end] == '\\' && end + 1 < text.size()) ++end;
      flag.push_back(text[end]);
      ++end;
    }
    flags.push_back(std::move(flag));
    pos = end + 1;
  }
  return flags;
}

}  // namespace

absl::StatusOr<std::unique_ptr<QuarantineStore>> QuarantineStore::Open(const std::string& path) {
  TM_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path));
  TM_RETURN_IF_ERROR(db->Migrate(Migrations()));
  return std::unique_ptr<QuarantineStore>(new QuarantineStore(std::move(db), path));
}

absl::StatusOr<std::vector<int64_t>> QuarantineStore::InsertBatch(
    const std::vector<QuarantineRecord>& records) {
  std::vector<int64_t> ids;
  if (records.empty()) return ids;
  absl::MutexLock lock(&mu_);
  TM_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_.get()));
  TM_ASSIGN_OR_RETURN(
      Statement * insert,
      db_->Cached("INSERT INTO quarantined_events (event_type, source, received_at, "
                  "envelope_json, trust_flags, reviewed, source_computer, stream_entry_id) "
                  "VALUES (?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT(stream_entry_id) DO NOTHING"));
  TM_ASSIGN_OR_RETURN(Statement * find,
                      db_->Cached("SELECT id FROM quarantined_events WHERE stream_entry_id = ?"));
  const std::string now = FormatTimestampStream(Timestamp::NowUtc());
  for (const QuarantineRecord& record : records) {
    insert->Bind(1, record.envelope.event)
        .Bind(2, record.envelope.source)
        .Bind(3, now)
        .Bind(4, EncodeEnvelopeJson(record.envelope))
        .Bind(5, FlagsJson(record.flags))
        .Bind(6, record.source_computer)
        .Bind(7, record.stream_entry_id);
    TM_RETURN_IF_ERROR(insert->Run());
    find->Bind(1, record.stream_entry_id);
    TM_ASSIGN_OR_RETURN(bool row, find->Step());
    ids.push_back(row ? find->ColumnInt64(0) : 0);
    find->Reset();
  }
  TM_RETURN_IF_ERROR(txn.Commit());
  return ids;
}

absl::StatusOr<std::vector<v1::QuarantinedEvent>> QuarantineStore::List(int limit, int offset) {
  if (limit <= 0) limit = 50;
  if (limit > 1000) limit = 1000;
  if (offset < 0) offset = 0;
  absl::MutexLock lock(&mu_);
  TM_ASSIGN_OR_RETURN(
      Statement * select,
      db_->Cached("SELECT id, event_type, source, received_at, envelope_json, trust_flags, "
                  "reviewed FROM quarantined_events ORDER BY id DESC LIMIT ? OFFSET ?"));
  select->Bind(1, limit).Bind(2, offset);
  std::vector<v1::QuarantinedEvent> events;
  while (true) {
    absl::StatusOr<bool> row = select->Step();
    if (!row.ok()) {
      select->Reset();
      return row.status();
    }
    if (!*row) break;
    v1::QuarantinedEvent& event = events.emplace_back();
    event.set_id(select->ColumnInt64(0));
    event.set_event_type(select->ColumnText(1));
    event.set_source(select->ColumnText(2));
    event.set_received_at(select->ColumnText(3));
    event.set_envelope_json(select->ColumnText(4));
    for (std::string& flag : ParseFlags(select->ColumnText(5))) event.add_trust_flags(flag);
    event.set_reviewed(select->ColumnInt64(6) != 0);
  }
  select->Reset();
  return events;
}

}  // namespace teleclaude::mesh
