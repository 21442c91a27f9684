// Membership as ingress keeps it (doc/membership.md): a background thread
// reads every `computer:*:heartbeat` key about once per refresh interval
// (SCAN + MGET, one round trip per SCAN page), checks each heartbeat,
// records what it saw in membership.db (MembershipStore::RecordHeartbeats)
// and publishes an immutable snapshot. Ingress's trust gate reads the
// snapshot; egress reads the database (MembershipReader). The only writer of
// membership.db.
#ifndef TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_WRITER_H_
#define TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_WRITER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/mesh/heartbeat_decode_cache.h"
#include "common/mesh/membership_store.h"
#include "common/mesh/membership_view.h"
#include "common/redis/redis_client.h"
#include "common/sqlite/write_health.h"

namespace teleclaude::mesh {

// Thread-safe. Owns its Redis connection, its store and its thread.
class MembershipWriter : public MembershipView {
 public:
  struct Options {
    RedisClientOptions redis;
    std::string db_path;  // {data_dir}/membership.db
    std::string self_name;
    std::optional<std::string> self_cluster;
    absl::Duration refresh = absl::Seconds(1);  // --peer_refresh_ms
    MembershipStore::Policy policy;             // retention, --trusted_keys pins
    // A signed heartbeat whose last_seen is older than this (or more than
    // 10 min ahead) is ignored: a replay (doc/security.md §5). --heartbeat_ttl_s.
    absl::Duration heartbeat_ttl = absl::Seconds(60);
    // Told of every snapshot the background refresh publishes; not owned.
    MembershipListener* listener = nullptr;
  };

  struct Counters {
    int64_t refreshes = 0;           // complete reads of the heartbeats
    int64_t heartbeats_ignored = 0;  // values that did not pass the checks
    int64_t members_refused = 0;     // new names not recorded: table full
    int64_t keys_changed = 0;        // pinned names seen with another key
    // Values checked by DecodeSignedHeartbeat; a value unchanged since the
    // previous read is not checked again (HeartbeatDecodeCache).
    int64_t heartbeats_decoded = 0;
  };

  // Opens (creates, migrates) the database and publishes what it remembers
  // as the first snapshot, before any heartbeat is read. Errors: the
  // database cannot be opened.
  static absl::StatusOr<std::unique_ptr<MembershipWriter>> Open(Options options);
  ~MembershipWriter() override;  // Stop()
  MembershipWriter(const MembershipWriter&) = delete;
  MembershipWriter& operator=(const MembershipWriter&) = delete;

  // Starts the background refresh (the first runs at once). Idempotent.
  void Start();
  // Stops it; idempotent.
  void Stop();

  // Reads the heartbeats now (on the calling thread), records them and
  // publishes the snapshot. Each value goes through DecodeSignedHeartbeat
  // (its result reused while the value stays byte for byte the same:
  // HeartbeatDecodeCache):
  // one that is malformed, larger than 4 KiB, whose computer_name differs
  // from the name in its key (a second key claiming a computer), whose names
  // are not valid, or whose signature does not verify is ignored — it
  // neither creates nor changes a record — counted in heartbeats_ignored and
  // logged (at most once a minute). This computer's own heartbeat is
  // skipped. Then keys (MembershipStore::RecordHeartbeats, doc/security.md
  // §6): a signed heartbeat whose last_seen is outside (now - heartbeat_ttl,
  // now + 10 min) is ignored; pins, changed keys and held names are logged.
  // UNAVAILABLE when Redis cannot be read (nothing is recorded: a
  // read that failed must not make every peer away); SQLite errors as the
  // store returns them. The previous snapshot stays on error.
  absl::Status RefreshNow();

  // A person's `telec peers trust NAME` (MembershipStore::TrustKey), then a
  // new snapshot. Returns the record after.
  absl::StatusOr<MemberRecord> TrustKey(std::string_view name,
                                        const std::optional<Fingerprint>& expected);

  // A person's `telec peers forget NAME` (MembershipStore::Forget), then a
  // new snapshot. Returns the record as it was. NOT_FOUND for an unknown
  // name.
  absl::StatusOr<MemberRecord> Forget(std::string_view name);

  // What the writer last saw of membership.db's commits (disk full since
  // ...) for a WriteHealthProbe; lives as long as the writer. While the disk
  // is full the background refresh keeps the last snapshot (the peers as
  // recorded) and retries with backoff — from the refresh interval, doubling
  // to 5 s (at least the interval) — until a commit (doc/membership.md).
  const WriteHealth* write_health() const { return write_health_.get(); }

  // True once a read of the heartbeats has completed (ingress reads its
  // inbox only then: the trust gate has seen who is there).
  bool has_read_heartbeats() const { return read_once_.load(); }

  Counters counters() const;

  // MembershipView.
  std::shared_ptr<const MembershipSnapshot> Snapshot() const override;
  std::shared_ptr<const MembershipSnapshot> Refresh() override;

 private:
  MembershipWriter(Options options, std::unique_ptr<WriteHealth> write_health,
                   std::unique_ptr<MembershipStore> store);
  void Run();
  MembershipSnapshot::Self SelfView() const;
  void Publish(std::vector<MemberRecord> records, absl::Time now);

  const Options options_;
  // Told by the store of its commits and failures; outlives store_.
  const std::unique_ptr<WriteHealth> write_health_;
  // Serialises RefreshNow / Forget: the Redis client and the store are used
  // by one caller at a time.
  absl::Mutex work_mu_;
  std::unique_ptr<RedisClient> redis_ ABSL_GUARDED_BY(work_mu_);
  std::unique_ptr<MembershipStore> store_ ABSL_GUARDED_BY(work_mu_);
  HeartbeatDecodeCache decode_cache_ ABSL_GUARDED_BY(work_mu_);
  mutable absl::Mutex mu_;
  std::shared_ptr<const MembershipSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  Counters counters_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> read_once_{false};
  absl::Notification stop_;
  std::thread thread_;
  std::atomic<bool> started_{false};
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_WRITER_H_
