#include "services/egress/delivery/installer_transport.h"

#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "glog/logging.h"
#include "services/egress/delivery/installer_push.h"

namespace teleclaude::mesh {

OutboxSendResult InstallerTransport::Send(const std::vector<OutboxDelivery>& deliveries) {
  OutboxSendResult result;
  // Decoded once; a body that does not decode is refused, never sent.
  std::vector<std::optional<v1::NotificationPush>> pushes(deliveries.size());
  std::vector<absl::Status> refused(deliveries.size());
  v1::OnNotificationRequest all;
  for (size_t i = 0; i < deliveries.size(); ++i) {
    absl::StatusOr<v1::NotificationPush> push = DecodeInstallerPush(deliveries[i].body);
    if (!push.ok()) {
      LOG(ERROR) << "push outbox row " << deliveries[i].seq << " (" << deliveries[i].message_id
                 << "): " << push.status().message() << "; dropped";
      refused[i] = push.status();
      continue;
    }
    *all.add_pushes() = *push;
    pushes[i] = *std::move(push);
  }
  absl::Status sent = all.pushes_size() > 0 ? installer_->OnNotification(all) : absl::OkStatus();
  if (sent.ok()) {
    result.statuses = std::move(refused);
    return result;
  }
  if (!IsPermanentError(sent)) {
    // Offered again after a backoff (the undecodable ones before the first
    // decodable one are settled).
    for (size_t i = 0; i < deliveries.size() && !pushes[i]; ++i) {
      result.statuses.push_back(refused[i]);
    }
    result.error = std::move(sent);
    return result;
  }
  // Refused as a batch: find the push it refuses, one call each.
  for (size_t i = 0; i < deliveries.size(); ++i) {
    if (!pushes[i]) {
      result.statuses.push_back(refused[i]);
      continue;
    }
    v1::OnNotificationRequest one;
    *one.add_pushes() = *pushes[i];
    absl::Status s = installer_->OnNotification(one);
    if (!s.ok() && !IsPermanentError(s)) {
      result.error = std::move(s);
      return result;
    }
    if (!s.ok()) {
      LOG(ERROR) << "installer refused push " << pushes[i]->push_id()
                 << " for good; dropped: " << s;
    }
    result.statuses.push_back(std::move(s));
  }
  return result;
}

}  // namespace teleclaude::mesh
