// Raises `mesh.peer.key_changed` (doc/security.md §6, catalog entry
// mesh.peer.key_changed): told of every membership snapshot, it submits one
// local event per key_changed record and pending key to egress, with the
// message id "key_changed:{name}:{fingerprint}" — egress' de-duplication
// makes it one notification per name and key, even across restarts. A
// Submit that fails is tried again with the next snapshot.
#ifndef TELECLAUDE_MESH_SERVICES_INGRESS_KEY_CHANGE_NOTIFIER_H_
#define TELECLAUDE_MESH_SERVICES_INGRESS_KEY_CHANGE_NOTIFIER_H_

#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/envelope/envelope.h"
#include "common/mesh/membership_view.h"
#include "services/ingress/pipeline_client.h"

namespace teleclaude::mesh {

inline constexpr std::string_view kMeshPeerKeyChanged = "mesh.peer.key_changed";

// The event for `record` (state key_changed, pending key set).
EventEnvelope BuildKeyChangedEvent(const MemberRecord& record, std::string_view self_name);

// Thread-safe. The pipeline client is not owned and must outlive it.
class KeyChangeNotifier : public MembershipListener {
 public:
  KeyChangeNotifier(std::string self_name, PipelineClient* pipeline);
  void OnSnapshot(const MembershipSnapshot& snapshot) override;

 private:
  const std::string self_name_;
  PipelineClient* const pipeline_;
  absl::Mutex mu_;
  std::set<std::string> delivered_ ABSL_GUARDED_BY(mu_);  // message ids egress confirmed
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INGRESS_KEY_CHANGE_NOTIFIER_H_
