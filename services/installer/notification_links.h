// What the installer's egress transport (egress_transport.h) needs from
// installer.db while it delivers: the notification ids egress gave to the
// events it accepted are remembered on their cartridge rows, and a
// resolution whose notification id was not known when it was queued looks it
// up. Implemented by CartridgeInstaller, which runs both on its writer.
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_NOTIFICATION_LINKS_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_NOTIFICATION_LINKS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace teleclaude::mesh {

// A notification egress created for an event about a cartridge version.
struct NotificationLink {
  std::string cartridge_name;
  std::string cartridge_sha256;
  std::string event_type;  // cartridge.install_pending becomes the version's pending one
  int64_t notification_id = 0;
};

// Called on the outbox sender's thread (never the writer's).
class NotificationLinks {
 public:
  virtual ~NotificationLinks() = default;
  // The version's install_pending notification as installer.db knows it; 0
  // when unknown (or the version is gone).
  virtual absl::StatusOr<int64_t> PendingNotificationOf(std::string_view name,
                                                        std::string_view sha256) = 0;
  // Records the links on their cartridge rows (a version that is gone is
  // skipped), in one transaction.
  virtual absl::Status Link(const std::vector<NotificationLink>& links) = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_NOTIFICATION_LINKS_H_
