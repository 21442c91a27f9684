// The seam between membership and its users (doc/membership.md): egress's
// mesh publisher and Pipeline.ListPeers, ingress's trust gate. Two
// implementations: MembershipWriter (ingress: reads heartbeats, writes
// membership.db) and MembershipReader (egress: reads membership.db).
#ifndef TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_VIEW_H_
#define TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_VIEW_H_

#include <memory>

#include "common/mesh/membership_snapshot.h"

namespace teleclaude::mesh {

// Implementations are thread-safe.
class MembershipView {
 public:
  virtual ~MembershipView() = default;

  // The latest snapshot; never null (an empty, not loaded() one before the
  // first load). Cheap: a mutex and a shared_ptr copy.
  virtual std::shared_ptr<const MembershipSnapshot> Snapshot() const = 0;

  // Brings the view up to date now, on the calling thread (the writer reads
  // the heartbeats, the reader re-reads the database), publishes and returns
  // the new snapshot; null when that failed (the previous one stays). Costs
  // Redis or SQLite round trips: callers bound how often they call it.
  virtual std::shared_ptr<const MembershipSnapshot> Refresh() = 0;
};

// Told of every snapshot a view publishes by its background refresh (e.g.
// egress drops the outbox of a computer once it is forgotten). Called on the
// view's refresh thread, one call at a time; must not block for long.
class MembershipListener {
 public:
  virtual ~MembershipListener() = default;
  virtual void OnSnapshot(const MembershipSnapshot& snapshot) = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_VIEW_H_
