#include "services/ingress/quarantine_store.h"

#include <utility>

#include "absl/synchronization/notification.h"
#include "common/base/status_macros.h"
#include "common/delivery/writer_job.h"
#include "common/envelope/json_codec.h"
#include "common/envelope/timestamp_codec.h"
#include "common/json/json_text.h"
#include "common/json/writer.h"
#include "common/sqlite/statement.h"

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

// What an InsertBatch waits for; on its stack.
struct InsertResult {
  absl::Status status;
  std::vector<int64_t> ids;
  absl::Notification done;
};

// One InsertBatch, applied in a round of the writer (which owns the job and
// destroys it after Finish: the caller reads only `result`).
class InsertJob final : public WriterJob {
 public:
  InsertJob(Database* db, const std::vector<QuarantineRecord>* records, InsertResult* result)
      : db_(db), records_(records), result_(result) {}

  absl::Status Apply() override {
    Database* db = db_;  // the writer's, in its round's transaction
    TM_ASSIGN_OR_RETURN(
        Statement * insert,
        db->Cached("INSERT INTO quarantined_events (event_type, source, received_at, "
                   "envelope_json, trust_flags, reviewed, source_computer, stream_entry_id) "
                   "VALUES (?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT(stream_entry_id) DO NOTHING"));
    TM_ASSIGN_OR_RETURN(Statement * find,
                        db->Cached("SELECT id FROM quarantined_events WHERE stream_entry_id = ?"));
    const std::string now = FormatTimestampStream(Timestamp::NowUtc());
    ids_.clear();
    for (const QuarantineRecord& record : *records_) {
      insert->Bind(1, record.envelope.event)
          .Bind(2, record.envelope.source)
          .Bind(3, now)
          .Bind(4, EncodeEnvelopeJson(record.envelope))
          .Bind(5, FlagsJson(record.flags))
          .Bind(6, record.source_computer)
          .Bind(7, record.stream_entry_id);
      TM_RETURN_IF_ERROR(insert->Run());
      find->Bind(1, record.stream_entry_id);
      absl::StatusOr<bool> row = find->Step();
      if (!row.ok()) {
        find->Reset();
        return row.status();
      }
      ids_.push_back(*row ? find->ColumnInt64(0) : 0);
      find->Reset();
    }
    return absl::OkStatus();
  }

  void Finish(const absl::Status& status) override {
    result_->status = status;
    if (status.ok()) result_->ids = std::move(ids_);
    result_->done.Notify();  // the caller may return (and `result_` go) now
  }

  size_t weight() const override { return records_->size(); }

 private:
  Database* const db_;
  const std::vector<QuarantineRecord>* const records_;
  InsertResult* const result_;
  std::vector<int64_t> ids_;
};

}  // namespace

QuarantineStore::QuarantineStore(std::string path, std::unique_ptr<Database> db,
                                 std::unique_ptr<Database> reader)
    : path_(std::move(path)),
      write_health_("ingress.db"),
      db_(std::move(db)),
      reader_(std::move(reader)) {
  SingleWriter::Options options;
  options.name = "ingress.db";
  options.write_health = &write_health_;
  // Quarantined events are few and large (the whole envelope): checkpoint at
  // 1 MiB of WAL rather than 4, so the WAL does not take back the little
  // space freed after a full disk (measured: 2,200 rows, 3.4 MB of WAL).
  options.checkpoint_idle_pages = 256;
  options.checkpoint_busy_pages = 1024;
  writer_ = std::make_unique<SingleWriter>(std::move(options), db_.get());
  writer_->Start();
}

QuarantineStore::~QuarantineStore() { writer_->Stop(); }

absl::StatusOr<std::unique_ptr<QuarantineStore>> QuarantineStore::Open(const std::string& path) {
  // The writer checkpoints between rounds (and TRUNCATEs after SQLITE_FULL):
  // no checkpoint inside a COMMIT before the round's callers are told.
  TM_ASSIGN_OR_RETURN(std::unique_ptr<Database> db,
                      Database::Open(path, DatabaseOptions{.auto_checkpoint = false}));
  TM_RETURN_IF_ERROR(db->Migrate(Migrations()));
  TM_ASSIGN_OR_RETURN(std::unique_ptr<Database> reader,
                      Database::Open(path, DatabaseOptions{.read_only = true}));
  return std::unique_ptr<QuarantineStore>(
      new QuarantineStore(path, std::move(db), std::move(reader)));
}

absl::StatusOr<std::vector<int64_t>> QuarantineStore::InsertBatch(
    const std::vector<QuarantineRecord>& records) {
  if (records.empty()) return std::vector<int64_t>();
  InsertResult result;
  writer_->Submit(std::make_unique<InsertJob>(db_.get(), &records, &result));
  result.done.WaitForNotification();
  if (!result.status.ok()) return result.status;
  return std::move(result.ids);
}

absl::StatusOr<std::vector<v1::QuarantinedEvent>> QuarantineStore::List(int limit, int offset) {
  if (limit <= 0) limit = 50;
  if (limit > 1000) limit = 1000;
  if (offset < 0) offset = 0;
  absl::MutexLock lock(&read_mu_);
  TM_ASSIGN_OR_RETURN(
      Statement * select,
      reader_->Cached("SELECT id, event_type, source, received_at, envelope_json, trust_flags, "
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
