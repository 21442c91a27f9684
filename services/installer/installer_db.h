// installer.db: the cartridge registry, its audit log, invocation stats, the
// ids already seen and the outbox of messages for egress (an Outbox of the
// delivery core, opened by the installer on database()). Schema, migrations and meanings:
// doc/installer-db.md (the one place they are described).
//
// Not thread-safe: one InstallerDb is used by one thread only — the
// installer's writer (a SingleWriter, common/delivery/single_writer.h), the
// only writer; seen_ids() is its pruning chore.
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
#include "common/delivery/seen_ids.h"
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

// One row of `cartridge_stats`.
struct CartridgeStatRow {
  std::string cartridge_name;
  int64_t invocation_count = 0;
  std::string last_invoked_at;         // "" = never
  std::string promotion_suggested_at;  // "" = not yet
};

// The name of the Outbox (common/delivery/outbox.h) of messages for egress:
// tables outbox_egress*.
inline constexpr std::string_view kEgressOutboxName = "egress";

// The schema's migrations in order (doc/installer-db.md); Open applies them.
// Exposed so tests can build a database of an older version.
const std::vector<Migration>& InstallerDbMigrations();

class InstallerDb {
 public:
  // Opens (creating when missing) the database at `path` in WAL mode and
  // applies pending migrations. `seen_ids`: how long handled push ids and
  // applied batch ids are kept and how they are pruned. Errors:
  // INTERNAL/FAILED_PRECONDITION "<path>: <sqlite message>";
  // FAILED_PRECONDITION when the file's schema version is newer than this
  // program knows.
  static absl::StatusOr<std::unique_ptr<InstallerDb>> Open(const std::filesystem::path& path,
                                                           SeenIds::Options seen_ids = {});
  ~InstallerDb();
  InstallerDb(const InstallerDb&) = delete;
  InstallerDb& operator=(const InstallerDb&) = delete;

  // A random id made when the database was created; part of every outbox
  // message_id, so a recreated database never repeats an old id.
  const std::string& instance_id() const { return instance_id_; }
  // PRAGMA user_version after migrations.
  int schema_version() const { return schema_version_; }

  // Runs `body` in one transaction (BEGIN IMMEDIATE): commits when it
  // returns OK, rolls back otherwise and returns its status. For tools and
  // tests: the installer writes through its SingleWriter's Transact, whose
  // transactions include the outbox's work.
  absl::Status InTransaction(absl::FunctionRef<absl::Status()> body);

  // The connection (for the installer's SingleWriter, which runs every use
  // of this object on its thread).
  Database* database() const { return db_.get(); }

  // --- seen ids (doc/installer-db.md "seen_ids") ---
  // Prefixes of the ids in seen_ids: a notification push, a RecordInvocations
  // batch.
  static constexpr std::string_view kPushIdPrefix = "push:";
  static constexpr std::string_view kInvocationBatchIdPrefix = "invocations:";
  // The ledger; a WriterChore that forgets ids older than its ttl.
  SeenIds& seen_ids() { return seen_ids_; }

  // --- pushes ---
  // Whether the push was handled (its id is in seen_ids).
  absl::StatusOr<bool> IsPushHandled(std::string_view push_id);
  // Records the push as handled; true when it was not yet (act on it), false
  // when it was (a redelivery: no second effect). REQUIRES: in the
  // transaction of its effects.
  absl::StatusOr<bool> MarkPushHandled(std::string_view push_id);

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

  // --- stats ---
  // Records the RecordInvocations batch as applied; true when it was not yet
  // (apply it), false when it was. REQUIRES: in the transaction of its
  // effects.
  absl::StatusOr<bool> MarkBatchApplied(std::string_view batch_id);
  absl::StatusOr<std::optional<CartridgeStatRow>> GetStat(std::string_view name);
  absl::Status PutStat(const CartridgeStatRow& row);
  absl::StatusOr<std::vector<CartridgeStatRow>> ListStats();

 private:
  InstallerDb(std::unique_ptr<Database> db, SeenIds::Options seen_ids);
  absl::Status LoadInstanceId();
  absl::StatusOr<std::vector<CartridgeRecord>> QueryRecords(
      std::string_view where_and_order, bool with_source, absl::FunctionRef<void(Statement&)> bind);

  const std::unique_ptr<Database> db_;
  SeenIds seen_ids_;
  std::string instance_id_;
  int schema_version_ = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_INSTALLER_DB_H_
