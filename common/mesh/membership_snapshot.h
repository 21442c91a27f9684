// An immutable view of membership.db at one instant (doc/membership.md): the
// records of every other computer this one has seen, and the questions both
// services ask of them — where an event of a visibility goes (egress's mesh
// publisher) and who a sender is (ingress's trust gate). Built by
// MembershipWriter (ingress) and MembershipReader (egress); shared between
// threads through std::shared_ptr<const MembershipSnapshot>. Thread-safe
// (immutable).
#ifndef TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_SNAPSHOT_H_
#define TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_SNAPSHOT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "common/envelope/envelope.h"
#include "common/mesh/membership_record.h"

namespace teleclaude::mesh {

class MembershipSnapshot {
 public:
  // Whose view this is and how long an away computer is remembered.
  struct Self {
    std::string name;
    std::optional<std::string> cluster;  // nullopt (or "") = none
    absl::Duration retention = absl::Hours(24);
  };

  // Empty (no record); loaded() is false.
  MembershipSnapshot() = default;
  // `records` in any order. A record of `self.name` is dropped (a computer is
  // never its own peer); an away record whose retention is over at `as_of`
  // reads as forgotten by retention (so a reader whose writer is down still
  // stops routing to it in time).
  MembershipSnapshot(std::vector<MemberRecord> records, Self self, absl::Time as_of);

  // Every record, sorted by name, forgotten ones included.
  const std::vector<MemberRecord>& members() const { return members_; }
  // The record of `name` in any state, or nullptr.
  const MemberRecord* Find(std::string_view name) const;

  // Live or away: a destination for its visibility class, and judged by its
  // record by the trust gate.
  static bool IsRemembered(const MemberRecord& record);
  // Its last heartbeat was signed by its pinned key (verified) and declared
  // this computer's (non-empty) cluster.
  bool IsClusterPeer(const MemberRecord& record) const;
  // Where an event of `visibility` goes: for public every remembered
  // computer, for cluster the remembered cluster peers, for local nobody.
  // Sorted by name; the views point into this snapshot.
  std::vector<std::string_view> Destinations(Visibility visibility) const;

  // How many records are in `state`.
  int Count(MemberState state) const;

  const Self& self() const { return self_; }
  // When the snapshot was made; InfinitePast() for the empty one.
  absl::Time as_of() const { return as_of_; }
  bool loaded() const { return as_of_ != absl::InfinitePast(); }

 private:
  std::vector<MemberRecord> members_;
  Self self_;
  absl::Time as_of_ = absl::InfinitePast();
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_MESH_MEMBERSHIP_SNAPSHOT_H_
