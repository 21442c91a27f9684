// installer.db: the cartridge registry, its audit log, invocation stats and
// the outbox of events for egress. Schema, migrations and meanings:
// doc/installer-db.md (the one place they are described).
//
// Not thread-safe: one InstallerDb is used by one thread only — the
// installer's worker (SerialExecutor), which is the only writer.
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_INSTALLER_DB_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_INSTALLER_DB_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/delivery/outbox_kind.h"
#include "common/sqlite/database.h"
#include "services/installer/cartridge_payload.h"
#include "services/installer/signature_check.h"

namespace teleclaude::mesh {

// A registry row's status (doc/installer-db.md "cartridges").
enum class RegistryStatus {
  kPending,
  kActive,
  kRejected,
  kSuperseded,
  kSuspended,
  kFailed,
  kInactive,
};
// "pending", "active", "rejected", "superseded", "suspended", "failed",
// "inactive".
std::string_view RegistryStatusName(RegistryStatus status);
std::optional<RegistryStatus> ParseRegistryStatus(std::string_view name);

// One row of `cartridges`: one version (name + sha256) of a cartridge.
struct CartridgeRecord {
  int64_t id = 0;  // assigned by Insert
  CartridgeCandidate cartridge;
  RegistryStatus status = RegistryStatus::kPending;
  std::string decided_by;  // "" until decided
  std::string decided_at;  // ISO 8601, "" until decided
  std::string reason;
  std::vector<int64_t> notification_ids;  // every notification about it
  int64_t pending_notification_id = 0;    // its install_pending, 0 = unknown
  int64_t activation_order = 0;           // > 0 while active
  std::string created_at;
  std::string updated_at;
  // Who wrote it: the outcome of the signature check when it was received
  // (CartridgeSignatures::Check); set by Insert, never changed.
  SignatureCheck signature;
};

// One row of `cartridge_audit`.
struct AuditEntry {
  int64_t id = 0;
  std::string at;
  std::string name;
  std::string sha256;
  std::string action;  // received, activated, rejected, superseded, ...
  std::string actor;   // human, guardian:policy, L3, egress, notification:17, ...
  std::string reason;
};

// One row of `outbox`: something egress must be told, kept until it confirms.
struct OutboxItem {
  int64_t id = 0;  // assigned by Enqueue; message_id = "installer:<instance>:<id>"
  OutboxKind kind = OutboxKind::kSubmit;
  std::string event_type;      // kSubmit
  std::string envelope_json;   // kSubmit
  std::string cartridge_name;  // the cartridge it is about ("" = none)
  std::string cartridge_sha256;
  int64_t notification_id = 0;  // kResolve: 0 = find the cartridge's install_pending
  std::string resolution_json;  // kResolve
  int64_t attempts = 0;
  std::string last_error;
  std::string created_at;
};

// One row of `cartridge_stats`.
struct CartridgeStatRow {
  std::string cartridge_name;
  int64_t invocation_count = 0;
  std::string last_invoked_at;         // "" = never
  std::string promotion_suggested_at;  // "" = not yet
};

// The schema's migrations in order (doc/installer-db.md); Open applies them.
// Exposed so tests can build a database of an older version.
const std::vector<Migration>& InstallerDbMigrations();

class InstallerDb {
 public:
  // Opens (creating when missing) the database at `path` in WAL mode and
  // applies pending migrations. Errors: INTERNAL/FAILED_PRECONDITION
  // "<path>: <sqlite message>"; FAILED_PRECONDITION when the file's schema
  // version is newer than this program knows.
  static absl::StatusOr<std::unique_ptr<InstallerDb>> Open(const std::filesystem::path& path);
  ~InstallerDb();
  InstallerDb(const InstallerDb&) = delete;
  InstallerDb& operator=(const InstallerDb&) = delete;

  // A random id made when the database was created; part of every outbox
  // message_id, so a recreated database never repeats an old id.
  const std::string& instance_id() const { return instance_id_; }
  // PRAGMA user_version after migrations.
  int schema_version() const { return schema_version_; }

  // Runs `body` in one transaction (BEGIN IMMEDIATE): commits when it
  // returns OK, rolls back otherwise and returns its status.
  absl::Status InTransaction(absl::FunctionRef<absl::Status()> body);

  // --- pushes ---
  absl::StatusOr<bool> IsPushHandled(std::string_view push_id);
  absl::Status MarkPushHandled(std::string_view push_id, std::string_view at);

  // --- registry ---
  absl::StatusOr<std::optional<CartridgeRecord>> Find(std::string_view name,
                                                      std::string_view sha256);
  // Every version of `name`, newest first.
  absl::StatusOr<std::vector<CartridgeRecord>> FindByName(std::string_view name);
  absl::StatusOr<std::optional<CartridgeRecord>> FindByPendingNotification(int64_t notification_id);
  // Every row, by name then age; `with_source` = false leaves source empty.
  absl::StatusOr<std::vector<CartridgeRecord>> List(bool with_source);
  // Active rows with source, by activation order.
  absl::StatusOr<std::vector<CartridgeRecord>> ListActive();
  absl::StatusOr<int64_t> CountWithStatus(RegistryStatus status);
  // Inserts `record` (its id is ignored); returns the new id.
  // ALREADY_EXISTS when (name, sha256) exists.
  absl::StatusOr<int64_t> Insert(const CartridgeRecord& record);
  // Writes the mutable columns (status, decided_*, reason, notification ids,
  // pending_notification_id, activation_order, updated_at) of row record.id.
  absl::Status Update(const CartridgeRecord& record);
  // Deletes every version of `name` (the audit log keeps its entries);
  // returns how many rows went.
  absl::StatusOr<int64_t> DeleteByName(std::string_view name);
  // max(activation_order) + 1.
  absl::StatusOr<int64_t> NextActivationOrder();

  // --- audit ---
  absl::Status AddAudit(const AuditEntry& entry);
  // Entries about `name` ("" = all), oldest first.
  absl::StatusOr<std::vector<AuditEntry>> ListAudit(std::string_view name);

  // --- outbox ---
  absl::StatusOr<int64_t> Enqueue(const OutboxItem& item);
  // The oldest `limit` items.
  absl::StatusOr<std::vector<OutboxItem>> PeekOutbox(int limit);
  absl::Status DeleteOutbox(const std::vector<int64_t>& ids);
  absl::Status MarkOutboxAttempt(const std::vector<int64_t>& ids, std::string_view error);
  absl::StatusOr<int64_t> OutboxSize();

  // --- stats ---
  absl::StatusOr<bool> IsBatchApplied(std::string_view batch_id);
  absl::Status MarkBatchApplied(std::string_view batch_id, std::string_view at);
  absl::StatusOr<std::optional<CartridgeStatRow>> GetStat(std::string_view name);
  absl::Status PutStat(const CartridgeStatRow& row);
  absl::StatusOr<std::vector<CartridgeStatRow>> ListStats();

  // Forgets handled push ids and applied batch ids recorded before `before`
  // (ISO 8601). Returns how many rows went.
  absl::StatusOr<int64_t> PruneIdempotencyRecords(std::string_view before);

 private:
  explicit InstallerDb(std::unique_ptr<Database> db) : db_(std::move(db)) {}
  absl::Status LoadInstanceId();
  absl::StatusOr<std::vector<CartridgeRecord>> QueryRecords(
      std::string_view where_and_order, bool with_source, absl::FunctionRef<void(Statement&)> bind);

  const std::unique_ptr<Database> db_;
  std::string instance_id_;
  int schema_version_ = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_INSTALLER_DB_H_
