// membership.db: what this computer remembers about the other computers of
// the mesh (schema, migrations and the state rules: doc/membership.md).
// Ingress is its only writer (MembershipWriter); egress opens it read-only
// (MembershipReader). Every time is passed in (`now`), so the rules are
// tested with any clock.
#ifndef TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_STORE_H_
#define TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_STORE_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mesh/membership_record.h"
#include "common/sqlite/database.h"

namespace teleclaude::mesh {

// One heartbeat found by a read of the heartbeats (already checked: its key
// names the same computer, names are valid; see MembershipWriter).
struct HeartbeatSighting {
  std::string name;
  std::optional<std::string> cluster;  // nullopt = none
  std::string last_seen;               // the heartbeat's `last_seen`, as sent
  bool stopping = false;               // `state: "stopping"`
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
  };

  // Opens for writing, creating the file and applying the migrations. Errors
  // from SQLite carry the path (UNAVAILABLE, FAILED_PRECONDITION for a
  // database of a newer schema).
  static absl::StatusOr<std::unique_ptr<MembershipStore>> Open(const std::string& path);
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
  // key_changed records are left as they are. REQUIRES: opened with Open().
  absl::StatusOr<RecordResult> RecordHeartbeats(const std::vector<HeartbeatSighting>& seen,
                                                absl::Time now, const Policy& policy);

  // A person's `telec peers forget NAME`: the record becomes forgotten (by a
  // person) since `now` and its identity columns are cleared, so the
  // computer comes back as new once it heartbeats again. Returns the record
  // as it was before. NOT_FOUND when no record has that name. Forgetting a
  // forgotten record changes nothing. REQUIRES: opened with Open().
  absl::StatusOr<MemberRecord> Forget(std::string_view name, absl::Time now);

  const std::string& path() const { return path_; }
  int64_t skipped_rows() const { return skipped_rows_; }

 private:
  MembershipStore(std::unique_ptr<Database> db, std::string path)
      : path_(std::move(path)), db_(std::move(db)) {}
  // Writes every column of `record` (INSERT OR REPLACE).
  absl::Status Put(const MemberRecord& record);
  absl::Status Delete(std::string_view name);

  const std::string path_;
  std::unique_ptr<Database> db_;
  int64_t skipped_rows_ = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_STORE_H_
