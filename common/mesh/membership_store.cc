#include "common/mesh/membership_store.h"

#include <filesystem>
#include <map>
#include <set>
#include <system_error>
#include <utility>

#include "common/base/show_bytes.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/envelope/timestamp_codec.h"
#include "common/sqlite/statement.h"
#include "common/sqlite/transaction.h"
#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

// doc/membership.md "Schema". Times are Unix milliseconds of this computer's
// clock, except heartbeat_last_seen (the peer's own text).
const std::vector<Migration>& Migrations() {
  static const std::vector<Migration>* migrations = new std::vector<Migration>{
      {1, R"sql(
CREATE TABLE members (
    name TEXT PRIMARY KEY NOT NULL,
    cluster TEXT,
    state TEXT NOT NULL CHECK (state IN ('live', 'away', 'forgotten', 'key_changed')),
    state_since_ms INTEGER NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    heartbeat_last_seen TEXT NOT NULL,
    stopping INTEGER NOT NULL DEFAULT 0 CHECK (stopping IN (0, 1)),
    forgotten_by TEXT CHECK (forgotten_by IN ('person', 'retention')),
    public_key TEXT,
    fingerprint TEXT,
    key_source TEXT CHECK (key_source IN ('first_use', 'provisioned')),
    pending_public_key TEXT,
    verified INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
    CHECK ((state = 'forgotten') = (forgotten_by IS NOT NULL))
) WITHOUT ROWID;
)sql"},
  };
  return *migrations;
}

constexpr std::string_view kColumns =
    "name, cluster, state, state_since_ms, first_seen_ms, last_seen_ms, heartbeat_last_seen, "
    "stopping, forgotten_by, public_key, fingerprint, key_source, pending_public_key, verified";

// The row `stmt` is on (columns in kColumns order) as a record; an error
// naming the column when a value is not one this code writes.
absl::StatusOr<MemberRecord> ReadRow(const Statement& stmt) {
  MemberRecord r;
  r.name = stmt.ColumnText(0);
  r.cluster = stmt.ColumnOptionalText(1);
  const std::string state = stmt.ColumnText(2);
  std::optional<MemberState> parsed = ParseMemberState(state);
  if (!parsed.has_value()) return absl::DataLossError(Cat("state: unknown \"", state, "\""));
  r.state = *parsed;
  r.state_since = absl::FromUnixMillis(stmt.ColumnInt64(3));
  r.first_seen = absl::FromUnixMillis(stmt.ColumnInt64(4));
  r.last_seen = absl::FromUnixMillis(stmt.ColumnInt64(5));
  r.heartbeat_last_seen = stmt.ColumnText(6);
  r.stopping = stmt.ColumnInt64(7) != 0;
  if (std::optional<std::string> by = stmt.ColumnOptionalText(8)) {
    r.forgotten_by = ParseForgottenBy(*by);
    if (!r.forgotten_by) return absl::DataLossError(Cat("forgotten_by: unknown \"", *by, "\""));
  }
  if (std::optional<std::string> key = stmt.ColumnOptionalText(9)) {
    TM_ASSIGN_OR_RETURN(r.public_key, PublicKey::FromBase64("public_key", *key));
  }
  if (std::optional<std::string> fp = stmt.ColumnOptionalText(10)) {
    TM_ASSIGN_OR_RETURN(r.fingerprint, Fingerprint::Parse("fingerprint", *fp));
  }
  if (std::optional<std::string> source = stmt.ColumnOptionalText(11)) {
    r.key_source = ParseKeySource(*source);
    if (!r.key_source) return absl::DataLossError(Cat("key_source: unknown \"", *source, "\""));
  }
  if (std::optional<std::string> key = stmt.ColumnOptionalText(12)) {
    TM_ASSIGN_OR_RETURN(r.pending_public_key, PublicKey::FromBase64("pending_public_key", *key));
  }
  r.verified = stmt.ColumnInt64(13) != 0;
  return r;
}

std::optional<std::string> KeyText(const std::optional<PublicKey>& key) {
  if (!key.has_value()) return std::nullopt;
  return key->Base64();
}

// A record never seen before, from its first heartbeat.
MemberRecord NewRecord(const HeartbeatSighting& s, absl::Time now) {
  MemberRecord r;
  r.name = s.name;
  r.cluster = s.cluster;
  r.state = s.stopping ? MemberState::kAway : MemberState::kLive;
  r.state_since = now;
  r.first_seen = now;
  r.last_seen = now;
  r.heartbeat_last_seen = s.last_seen;
  r.stopping = s.stopping;
  return r;
}

void ClearIdentity(MemberRecord& r) {
  r.public_key.reset();
  r.fingerprint.reset();
  r.key_source.reset();
  r.pending_public_key.reset();
  r.verified = false;
}

bool SameIdentity(const MemberRecord& a, const MemberRecord& b) {
  return a.public_key == b.public_key && a.fingerprint == b.fingerprint &&
         a.key_source == b.key_source && a.pending_public_key == b.pending_public_key &&
         a.verified == b.verified;
}

// The fingerprint a name is pinned to: --trusted_keys' when listed there,
// else the key recorded for it; nullopt = no pin.
std::optional<Fingerprint> PinOf(const MemberRecord& r, const MembershipStore::Policy& policy) {
  if (auto it = policy.provisioned.find(r.name); it != policy.provisioned.end()) return it->second;
  if (r.public_key.has_value()) return Fingerprint::Of(*r.public_key);
  return std::nullopt;
}

// What a sighting's key does to a record (doc/security.md §6).
enum class KeyStep {
  kApply,   // the heartbeat counts: apply it (ApplySighting)
  kIgnore,  // it counts for nothing (unsigned for a pinned name, a replay)
  kHold,    // the record became key_changed: nothing else of it applies
};

KeyStep ApplyKey(const HeartbeatSighting& s, const MembershipStore::Policy& policy, absl::Time now,
                 MemberRecord& r, std::vector<KeyEvent>* events) {
  const std::optional<Fingerprint> pin = PinOf(r, policy);
  const bool provisioned = policy.provisioned.contains(r.name);
  if (!s.key.has_value()) {
    if (pin.has_value() || r.pending_public_key.has_value()) return KeyStep::kIgnore;
    r.verified = false;  // a Python peer (or anyone in a name no key claims)
    return KeyStep::kApply;
  }
  const Fingerprint seen = Fingerprint::Of(*s.key);
  if (pin.has_value() && *pin == seen) {
    if (r.verified && r.public_key == s.key && !r.heartbeat_last_seen.empty()) {
      absl::StatusOr<Timestamp> newest = ParseTimestampIsoformat(r.heartbeat_last_seen);
      if (newest.ok() && s.signed_last_seen < newest->ToTime()) return KeyStep::kIgnore;
    }
    if (r.public_key != s.key) {
      r.public_key = s.key;
      r.fingerprint = seen;
      r.key_source =
          provisioned ? KeySource::kProvisioned : r.key_source.value_or(KeySource::kFirstUse);
      if (provisioned) events->push_back({KeyEvent::Kind::kPinnedProvisioned, r.name, seen, pin});
    }
    r.pending_public_key.reset();
    r.verified = true;
    return KeyStep::kApply;
  }
  if (pin.has_value()) {
    r.pending_public_key = s.key;
    r.verified = false;
    r.state = MemberState::kKeyChanged;
    r.state_since = now;
    r.forgotten_by.reset();
    events->push_back({KeyEvent::Kind::kChanged, r.name, seen, pin});
    return KeyStep::kHold;
  }
  if (policy.provisioned_only) {
    if (r.pending_public_key != s.key) {
      events->push_back({KeyEvent::Kind::kHeld, r.name, seen, std::nullopt});
    }
    r.pending_public_key = s.key;
    r.verified = false;
    return KeyStep::kApply;
  }
  r.public_key = s.key;
  r.fingerprint = seen;
  r.key_source = KeySource::kFirstUse;
  r.pending_public_key.reset();
  r.verified = true;
  events->push_back({KeyEvent::Kind::kPinnedFirstUse, r.name, seen, std::nullopt});
  return KeyStep::kApply;
}

bool NewHeartbeat(const HeartbeatSighting& s, const MemberRecord& r) {
  return r.heartbeat_last_seen != s.last_seen || r.stopping != s.stopping;
}

// What a sighting does to a live or away record; true when it changed it.
bool ApplySighting(const HeartbeatSighting& s, absl::Time now, MemberRecord& r) {
  const bool new_heartbeat = NewHeartbeat(s, r);
  const MemberState want = s.stopping ? MemberState::kAway : MemberState::kLive;
  if (!new_heartbeat && r.state == want && r.cluster == s.cluster) return false;
  r.cluster = s.cluster;
  if (new_heartbeat) {
    r.last_seen = now;
    r.heartbeat_last_seen = s.last_seen;
    r.stopping = s.stopping;
  }
  if (r.state != want) {
    r.state = want;
    r.state_since = now;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MembershipStore>> MembershipStore::Open(const std::string& path,
                                                                       WriteHealth* write_health) {
  TM_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path));
  TM_RETURN_IF_ERROR(db->Migrate(Migrations()));
  return std::unique_ptr<MembershipStore>(new MembershipStore(std::move(db), path, write_health));
}

absl::Status MembershipStore::Commit(Transaction& txn) {
  TM_RETURN_IF_ERROR(txn.Commit());
  if (write_health_ != nullptr) write_health_->Committed();
  return absl::OkStatus();
}

void MembershipStore::AfterWrite(const absl::Status& status) {
  if (status.ok()) return;
  if (!(write_health_ != nullptr ? write_health_->Failed(status) : IsDiskFull(status))) return;
  // The transaction is rolled back: give the WAL's space back before the
  // next try (TRUNCATE copies what was committed and cuts the WAL file).
  absl::StatusOr<int> copied = db_->Checkpoint(CheckpointMode::kTruncate);
  if (!copied.ok()) {
    LOG_EVERY_T(WARNING, 60) << "membership: disk full; TRUNCATE checkpoint of " << path_ << ": "
                             << copied.status().message();
  }
}

absl::StatusOr<MembershipStore::RecordResult> MembershipStore::RecordHeartbeats(
    const std::vector<HeartbeatSighting>& seen, absl::Time now, const Policy& policy) {
  absl::StatusOr<RecordResult> result = RecordHeartbeatsTxn(seen, now, policy);
  AfterWrite(result.status());
  return result;
}

absl::StatusOr<MemberRecord> MembershipStore::Forget(std::string_view name, absl::Time now) {
  absl::StatusOr<MemberRecord> result = ForgetTxn(name, now);
  AfterWrite(result.status());
  return result;
}

absl::StatusOr<MemberRecord> MembershipStore::TrustKey(std::string_view name,
                                                       const std::optional<Fingerprint>& expected,
                                                       const Policy& policy, absl::Time now) {
  absl::StatusOr<MemberRecord> result = TrustKeyTxn(name, expected, policy, now);
  AfterWrite(result.status());
  return result;
}

absl::StatusOr<std::unique_ptr<MembershipStore>> MembershipStore::OpenReadOnly(
    const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(Cat("membership: ", path,
                                   " does not exist yet (telec-ingress "
                                   "creates it: is it running with the same --data_dir?)"));
  }
  DatabaseOptions options;
  options.read_only = true;
  TM_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(path, options));
  TM_ASSIGN_OR_RETURN(int version, db->UserVersion());
  if (version < kSchemaVersion) {
    return absl::UnavailableError(Cat("membership: ", path, " has schema version ", version,
                                      ", not yet ", kSchemaVersion,
                                      " (telec-ingress is creating or upgrading it)"));
  }
  if (version > kSchemaVersion) {
    return absl::FailedPreconditionError(
        Cat("membership: ", path, " has schema version ", version, ", newer than this program's ",
            kSchemaVersion, "; run the same release of telec-egress and telec-ingress"));
  }
  return std::unique_ptr<MembershipStore>(new MembershipStore(std::move(db), path));
}

absl::StatusOr<std::vector<MemberRecord>> MembershipStore::LoadAll() {
  TM_ASSIGN_OR_RETURN(Statement * stmt,
                      db_->Cached(Cat("SELECT ", kColumns, " FROM members ORDER BY name")));
  std::vector<MemberRecord> out;
  while (true) {
    TM_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    absl::StatusOr<MemberRecord> record = ReadRow(*stmt);
    if (!record.ok()) {
      ++skipped_rows_;
      LOG_EVERY_T(WARNING, 60) << "membership: " << path_ << ": skipping the row of "
                               << EscapeForMessage(stmt->ColumnText(0)) << ": "
                               << record.status().message();
      continue;
    }
    out.push_back(*std::move(record));
  }
  stmt->Reset();
  return out;
}

absl::Status MembershipStore::Put(const MemberRecord& r) {
  TM_ASSIGN_OR_RETURN(Statement * stmt,
                      db_->Cached(Cat("INSERT OR REPLACE INTO members (", kColumns,
                                      ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")));
  stmt->Bind(1, r.name)
      .Bind(2, r.cluster)
      .Bind(3, MemberStateName(r.state))
      .Bind(4, absl::ToUnixMillis(r.state_since))
      .Bind(5, absl::ToUnixMillis(r.first_seen))
      .Bind(6, absl::ToUnixMillis(r.last_seen))
      .Bind(7, r.heartbeat_last_seen)
      .Bind(8, r.stopping ? 1 : 0);
  if (r.forgotten_by) {
    stmt->Bind(9, ForgottenByName(*r.forgotten_by));
  } else {
    stmt->BindNull(9);
  }
  stmt->Bind(10, KeyText(r.public_key));
  if (r.fingerprint) {
    stmt->Bind(11, r.fingerprint->ToString());
  } else {
    stmt->BindNull(11);
  }
  if (r.key_source) {
    stmt->Bind(12, KeySourceName(*r.key_source));
  } else {
    stmt->BindNull(12);
  }
  stmt->Bind(13, KeyText(r.pending_public_key)).Bind(14, r.verified ? 1 : 0);
  return stmt->Run();
}

absl::Status MembershipStore::Delete(std::string_view name) {
  TM_ASSIGN_OR_RETURN(Statement * stmt, db_->Cached("DELETE FROM members WHERE name = ?"));
  stmt->Bind(1, name);
  return stmt->Run();
}

absl::StatusOr<MembershipStore::RecordResult> MembershipStore::RecordHeartbeatsTxn(
    const std::vector<HeartbeatSighting>& seen, absl::Time now, const Policy& policy) {
  TM_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_.get()));
  TM_ASSIGN_OR_RETURN(std::vector<MemberRecord> loaded, LoadAll());
  std::map<std::string, MemberRecord, std::less<>> records;
  for (MemberRecord& r : loaded) {
    std::string name = r.name;
    records.emplace(std::move(name), std::move(r));
  }
  RecordResult result;
  std::set<std::string, std::less<>> changed;
  std::set<std::string, std::less<>> present;
  for (const HeartbeatSighting& s : seen) {
    if (!present.insert(s.name).second) continue;  // one per name
    auto it = records.find(s.name);
    if (it == records.end()) {
      if (records.size() >= policy.max_members) {
        ++result.refused;
        continue;
      }
      MemberRecord r = NewRecord(s, now);
      if (ApplyKey(s, policy, now, r, &result.key_events) == KeyStep::kIgnore) {
        ++result.ignored;
        continue;
      }
      result.changes.push_back({r.name, std::nullopt, r.state, r.cluster, std::nullopt, false});
      changed.insert(r.name);
      records.emplace(s.name, std::move(r));
      continue;
    }
    MemberRecord& r = it->second;
    // A person decides (TrustKey / Forget), doc/security.md §6.
    if (r.state == MemberState::kKeyChanged) continue;
    // A forgotten record comes back only with a heartbeat it did not have
    // when forgotten, and not with the one it leaves behind when it stops;
    // forgotten by a person, it comes back as new.
    if (r.state == MemberState::kForgotten && (!NewHeartbeat(s, r) || s.stopping)) continue;
    MemberRecord next = r;
    if (r.state == MemberState::kForgotten && r.forgotten_by == ForgottenBy::kPerson) {
      next = NewRecord(s, now);
    } else if (r.state == MemberState::kForgotten) {
      next.forgotten_by.reset();
      next.state = MemberState::kAway;  // ApplySighting makes it live
    }
    const KeyStep step = ApplyKey(s, policy, now, next, &result.key_events);
    if (step == KeyStep::kIgnore) {
      ++result.ignored;
      continue;
    }
    bool did = !SameIdentity(r, next) || next.state != r.state;
    if (step == KeyStep::kApply) did = ApplySighting(s, now, next) || did;
    if (!did) continue;
    const MemberState before = r.state;
    r = std::move(next);
    changed.insert(r.name);
    if (r.state != before) {
      result.changes.push_back({r.name, before, r.state, r.cluster, std::nullopt, false});
    }
  }
  std::vector<std::string> pruned;
  for (auto& [name, r] : records) {
    const bool is_present = present.contains(name);
    const MemberState before = r.state;
    if (r.state == MemberState::kLive && !is_present) {
      r.state = MemberState::kAway;
      r.state_since = now;
    }
    if (RetentionOver(r, now, policy.retention)) {
      r.state = MemberState::kForgotten;
      r.state_since = now;
      r.forgotten_by = ForgottenBy::kRetention;
    } else if (r.state == MemberState::kForgotten && before == MemberState::kForgotten &&
               !is_present && r.state_since + policy.retention <= now) {
      pruned.push_back(name);
      result.changes.push_back({name, before, before, r.cluster, r.forgotten_by, true});
      continue;
    }
    if (r.state != before) {
      changed.insert(name);
      result.changes.push_back({name, before, r.state, r.cluster, r.forgotten_by, false});
    }
  }
  for (const std::string& name : pruned) {
    TM_RETURN_IF_ERROR(Delete(name));
    records.erase(name);
  }
  for (const std::string& name : changed) TM_RETURN_IF_ERROR(Put(records.at(name)));
  if (!changed.empty() || !pruned.empty()) TM_RETURN_IF_ERROR(Commit(txn));
  result.records.reserve(records.size());
  for (auto& [name, r] : records) result.records.push_back(std::move(r));
  return result;
}

absl::StatusOr<absl::StatusOr<MemberRecord>> MembershipStore::Find(std::string_view name) {
  TM_ASSIGN_OR_RETURN(Statement * stmt,
                      db_->Cached(Cat("SELECT ", kColumns, " FROM members WHERE name = ?")));
  stmt->Bind(1, name);
  TM_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) {
    stmt->Reset();
    return absl::NotFoundError(
        Cat("no computer named ", EscapeForMessage(name), " is known (telec peers lists them)"));
  }
  absl::StatusOr<MemberRecord> record = ReadRow(*stmt);
  stmt->Reset();
  return record;
}

absl::StatusOr<MemberRecord> MembershipStore::ForgetTxn(std::string_view name, absl::Time now) {
  TM_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_.get()));
  TM_ASSIGN_OR_RETURN(absl::StatusOr<MemberRecord> before, Find(name));
  MemberRecord record;
  if (before.ok()) {
    record = *before;
  } else {
    // An unreadable row is forgotten all the same (and rewritten whole).
    record.name = std::string(name);
    record.first_seen = record.last_seen = now;
  }
  if (record.state == MemberState::kForgotten && record.forgotten_by == ForgottenBy::kPerson) {
    return record;
  }
  record.state = MemberState::kForgotten;
  record.state_since = now;
  record.forgotten_by = ForgottenBy::kPerson;
  ClearIdentity(record);
  TM_RETURN_IF_ERROR(Put(record));
  TM_RETURN_IF_ERROR(Commit(txn));
  if (!before.ok()) return record;
  return *std::move(before);
}

absl::StatusOr<MemberRecord> MembershipStore::TrustKeyTxn(
    std::string_view name, const std::optional<Fingerprint>& expected, const Policy& policy,
    absl::Time now) {
  TM_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_.get()));
  TM_ASSIGN_OR_RETURN(absl::StatusOr<MemberRecord> read, Find(name));
  TM_RETURN_IF_ERROR(read.status());
  MemberRecord r = *std::move(read);
  if (!r.pending_public_key.has_value()) {
    return absl::FailedPreconditionError(
        Cat(EscapeForMessage(name), " has no key waiting to be trusted",
            r.fingerprint.has_value() ? Cat(" (its pinned key is ", r.fingerprint->ToString(), ")")
                                      : std::string(" (no signed heartbeat of it has been read)")));
  }
  const Fingerprint pending = Fingerprint::Of(*r.pending_public_key);
  if (expected.has_value() && *expected != pending) {
    return absl::FailedPreconditionError(Cat("fingerprint: ", EscapeForMessage(name), " offers ",
                                             pending.ToString(), ", not ", expected->ToString(),
                                             "; nothing changed (compare with `telec status` on ",
                                             EscapeForMessage(name), ")"));
  }
  if (auto it = policy.provisioned.find(name);
      it != policy.provisioned.end() && it->second != pending) {
    return absl::FailedPreconditionError(
        Cat(EscapeForMessage(name), " is pinned to ", it->second.ToString(),
            " by --trusted_keys; put its new fingerprint ", pending.ToString(),
            " in that file and restart telec-ingress"));
  }
  r.public_key = r.pending_public_key;
  r.fingerprint = pending;
  r.key_source = KeySource::kProvisioned;
  r.pending_public_key.reset();
  r.verified = true;
  if (r.state == MemberState::kKeyChanged) {
    r.state = MemberState::kAway;  // live again at its next heartbeat
    r.state_since = now;
    r.heartbeat_last_seen.clear();
  }
  TM_RETURN_IF_ERROR(Put(r));
  TM_RETURN_IF_ERROR(Commit(txn));
  return r;
}

}  // namespace teleclaude::mesh
