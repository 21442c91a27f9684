// Membership as egress sees it (doc/membership.md): membership.db, written by
// this computer's ingress (MembershipWriter), opened read-only and re-read
// about once per refresh interval into an immutable snapshot. The mesh
// publisher asks it for destinations, Pipeline.ListPeers for the records.
// Egress never reads heartbeats itself: one view, one writer.
#ifndef TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_READER_H_
#define TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_READER_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/mesh/membership_store.h"
#include "common/mesh/membership_view.h"

namespace teleclaude::mesh {

// Thread-safe. Owns its read-only connection and its thread.
class MembershipReader : public MembershipView {
 public:
  struct Options {
    std::string db_path;  // {data_dir}/membership.db
    std::string self_name;
    std::optional<std::string> self_cluster;
    absl::Duration refresh = absl::Seconds(1);   // --peer_refresh_ms
    absl::Duration retention = absl::Hours(24);  // --peer_retention
  };

  explicit MembershipReader(Options options);
  ~MembershipReader() override;  // Stop()
  MembershipReader(const MembershipReader&) = delete;
  MembershipReader& operator=(const MembershipReader&) = delete;

  // Starts the background reload (the first runs at once). Idempotent.
  // `listener` (optional, not owned, must outlive Stop()) hears every
  // snapshot the background reload publishes.
  void Start(MembershipListener* listener = nullptr);
  // Stops it; idempotent.
  void Stop();

  // Reads the database now and publishes the snapshot. Until the file exists
  // (ingress creates it at its first start) NOT_FOUND, and the snapshot is
  // empty: nothing is forwarded until ingress has recorded a peer. Errors of
  // MembershipStore::OpenReadOnly / LoadAll otherwise (after an error the
  // connection is reopened at the next call). The previous snapshot stays on
  // error.
  absl::Status ReloadNow();

  // MembershipView.
  std::shared_ptr<const MembershipSnapshot> Snapshot() const override;
  std::shared_ptr<const MembershipSnapshot> Refresh() override;

 private:
  void Run();

  const Options options_;
  absl::Mutex store_mu_;  // serialises ReloadNow callers on the one connection
  std::unique_ptr<MembershipStore> store_ ABSL_GUARDED_BY(store_mu_);
  mutable absl::Mutex mu_;
  std::shared_ptr<const MembershipSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  std::thread thread_;
  std::atomic<bool> started_{false};
  MembershipListener* listener_ = nullptr;  // set by Start, read by Run
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_READER_H_
