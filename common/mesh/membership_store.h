// membership.db: what this computer remembers about the other computers of
// the mesh (schema, migrations and the state rules: doc/membership.md).
// Ingress is its only writer (MembershipWriter); egress opens it read-only
// (MembershipReader). Every time is passed in (`now`), so the rules are
// tested with any clock.
#ifndef TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_STORE_H_
#define TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_STORE_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mesh/membership_record.h"
#include "common/sqlite/database.h"
#include "common/sqlite/transaction.h"
#include "common/sqlite/write_health.h"

namespace teleclaude::mesh {

// One heartbeat found by a read of the heartbeats (already checked: its key
// names the same computer, names are valid; see MembershipWriter).
struct HeartbeatSighting {
  HeartbeatSighting() = default;
  HeartbeatSighting(std::string name, std::optional<std::string> cluster, std::string last_seen,
                    bool stopping = false, std::optional<PublicKey> key = std::nullopt,
                    absl::Time signed_last_seen = absl::InfinitePast())
      : name(std::move(name)),
        cluster(std::move(cluster)),
        last_seen(std::move(last_seen)),
        stopping(stopping),
        key(std::move(key)),
        signed_last_seen(signed_last_seen) {}

  std::string name;
  std::optional<std::string> cluster;  // nullopt = none
  std::string last_seen;               // the heartbeat's `last_seen`, as sent
  bool stopping = false;               // `state: "stopping"`
  // The key whose signature verified (DecodeSignedHeartbeat's signer);
  // nullopt = an unsigned heartbeat (a Python peer, or a forgery in a name).
  std::optional<PublicKey> key;
  absl::Time signed_last_seen = absl::InfinitePast();  // `last_seen` parsed (signed only)
};

// A state change one call made (for the log).
struct MembershipChange {
  std::string name;
  std::optional<MemberState> from;  // nullopt: a computer seen for the first time
  MemberState to = MemberState::kLive;
  std::optional<std::string> cluster;
  std::optional<ForgottenBy> forgotten_by;
  bool removed = false;  // a forgotten record pruned (see RecordHeartbeats)
};

// What one read did to a computer's key (doc/security.md §6), for the log
// and the `mesh.peer.key_changed` notification.
struct KeyEvent {
  enum class Kind {
    kPinnedFirstUse,     // a new name's key pinned (trust on first use)
    kPinnedProvisioned,  // the key of a --trusted_keys fingerprint seen
    kHeld,               // --trusted_keys given, name not in it: shown, not trusted
    kChanged,            // a pinned name heartbeats with another key: key_changed
  };
  Kind kind = Kind::kPinnedFirstUse;
  std::string name;
  Fingerprint fingerprint;            // of the key seen
  std::optional<Fingerprint> pinned;  // kChanged: the pin it differs from
};

// Thread-compatible: one thread at a time (MembershipWriter and
// MembershipReader serialise their calls).
class MembershipStore {
 public:
  // The schema version this code reads and writes (PRAGMA user_version).
  static constexpr int kSchemaVersion = 1;

  // How the rules apply (doc/membership.md "States").
  struct Policy {
    absl::Duration retention = absl::Hours(24);
    // Records beyond this many are not created: a heartbeat of a new name is
    // ignored while the table is full (counted in RecordResult::refused).
    size_t max_members = 10000;
    // --trusted_keys: name -> pinned fingerprint (a provisioned pin wins
    // over one made by first use).
    std::map<std::string, Fingerprint, std::less<>> provisioned;
    // --trusted_keys was given: a signed name not in it is recorded with its
    // key pending (shown, never trusted) until a person trusts it (§6.3).
    bool provisioned_only = false;
  };

  // Opens for writing, creating the file and applying the migrations. Errors
  // from SQLite carry the path (UNAVAILABLE, FAILED_PRECONDITION for a
  // database of a newer schema). `write_health` (optional, not owned, must
  // outlive the store) is told of every commit and every failed write
  // (RecordHeartbeats, Forget, TrustKey); after one that failed because the
  // disk is full (IsDiskFull) the WAL is checkpointed with TRUNCATE, so its
  // space is given back before the next try (doc/membership.md "Disk full").
  static absl::StatusOr<std::unique_ptr<MembershipStore>> Open(const std::string& path,
                                                               WriteHealth* write_health = nullptr);
  // Opens an existing file read-only. NOT_FOUND when there is no file (the
  // writer has not created it yet); UNAVAILABLE when its schema is not yet
  // kSchemaVersion (being created, or written by an older writer);
  // FAILED_PRECONDITION when it is newer.
  static absl::StatusOr<std::unique_ptr<MembershipStore>> OpenReadOnly(const std::string& path);

  // Every record, sorted by name. A row that does not read back (an unknown
  // state, a key that is not a key: the file was edited or corrupted) is
  // skipped with a rate-limited warning and counted in skipped_rows().
  absl::StatusOr<std::vector<MemberRecord>> LoadAll();

  struct RecordResult {
    std::vector<MemberRecord> records;  // every record after the call, sorted by name
    std::vector<MembershipChange> changes;
    int refused = 0;  // new names not recorded: the table was full
    std::vector<KeyEvent> key_events;
    int ignored = 0;  // sightings that changed nothing for their key (see below)
  };
  // Applies one complete read of the heartbeats made at `now`: `seen` holds
  // every valid heartbeat found (other computers only, at most one per
  // name). In one transaction, written only when something changed:
  //   - a name never seen: a new record, live (away when "stopping");
  //   - a live or away record: cluster, heartbeat text and stopping follow
  //     the heartbeat; live, or away when "stopping"; last_seen = now when
  //     the heartbeat is one not seen before (another `last_seen` text);
  //   - a forgotten record comes back, live, only with a new heartbeat that
  //     is not "stopping"; forgotten by a person it comes back as new
  //     (first_seen = now);
  //   - a live record not in `seen`: away since now;
  //   - an away record whose last_seen is `retention` old: forgotten by
  //     retention;
  //   - a forgotten record whose heartbeat is gone and that has been
  //     forgotten for `retention`: deleted (pruned).
  // Keys (doc/security.md §6), before the rules above: an unsigned
  // heartbeat of a name with a pin (a key, or a --trusted_keys fingerprint)
  // is ignored (counted); a signed one of a name without a pin pins its key
  // (first use) — or, when policy.provisioned_only, records it as pending
  // (not verified: never a cluster peer or trusted sender); a key whose
  // fingerprint a provisioned pin names fills that pin; a key other than the
  // pin makes the record key_changed with that key pending (one KeyEvent);
  // a signed heartbeat whose last_seen is older than the newest accepted is
  // ignored (a replay). key_changed records are left as they are until a
  // person decides (TrustKey / Forget). REQUIRES: opened with Open().
  absl::StatusOr<RecordResult> RecordHeartbeats(const std::vector<HeartbeatSighting>& seen,
                                                absl::Time now, const Policy& policy);

  // A person's `telec peers forget NAME`: the record becomes forgotten (by a
  // person) since `now` and its identity columns are cleared, so the
  // computer comes back as new once it heartbeats again. Returns the record
  // as it was before. NOT_FOUND when no record has that name. Forgetting a
  // forgotten record changes nothing. REQUIRES: opened with Open().
  absl::StatusOr<MemberRecord> Forget(std::string_view name, absl::Time now);

  // A person's `telec peers trust NAME`: the record's pending key becomes its
  // pin (key source provisioned: a person vouched for it), verified, and a
  // key_changed record live again. When `expected` is given it must be the
  // pending key's fingerprint. Returns the record after. NOT_FOUND for an
  // unknown name; FAILED_PRECONDITION when nothing is pending, when the
  // fingerprint differs, or when --trusted_keys pins another fingerprint
  // for the name (`provisioned`). REQUIRES: opened with Open().
  absl::StatusOr<MemberRecord> TrustKey(std::string_view name,
                                        const std::optional<Fingerprint>& expected,
                                        const Policy& policy, absl::Time now);

  const std::string& path() const { return path_; }
  int64_t skipped_rows() const { return skipped_rows_; }

 private:
  MembershipStore(std::unique_ptr<Database> db, std::string path,
                  WriteHealth* write_health = nullptr)
      : path_(std::move(path)), db_(std::move(db)), write_health_(write_health) {}
  // The write paths: RecordHeartbeats, Forget and TrustKey without the
  // reporting (their transaction is over when they return).
  absl::StatusOr<RecordResult> RecordHeartbeatsTxn(const std::vector<HeartbeatSighting>& seen,
                                                   absl::Time now, const Policy& policy);
  absl::StatusOr<MemberRecord> ForgetTxn(std::string_view name, absl::Time now);
  absl::StatusOr<MemberRecord> TrustKeyTxn(std::string_view name,
                                           const std::optional<Fingerprint>& expected,
                                           const Policy& policy, absl::Time now);
  // Commits `txn` and tells write_health_ when it did.
  absl::Status Commit(Transaction& txn);
  // After a write path returned `status`: a failure goes to write_health_;
  // a full disk gets a TRUNCATE checkpoint.
  void AfterWrite(const absl::Status& status);
  // Writes every column of `record` (INSERT OR REPLACE).
  absl::Status Put(const MemberRecord& record);
  absl::Status Delete(std::string_view name);
  // The row of `name` inside the caller's transaction: NOT_FOUND (naming
  // `telec peers`) when there is none; otherwise the row as ReadRow decoded
  // it, which may itself be an error (an unreadable row).
  absl::StatusOr<absl::StatusOr<MemberRecord>> Find(std::string_view name);

  const std::string path_;
  std::unique_ptr<Database> db_;
  WriteHealth* const write_health_;  // may be null
  int64_t skipped_rows_ = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_STORE_H_
