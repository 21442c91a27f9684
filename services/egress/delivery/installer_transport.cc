#include "services/egress/delivery/installer_transport.h"

#include <utility>

#include "absl/status/statusor.h"
#include "glog/logging.h"
#include "services/egress/delivery/installer_push.h"

namespace teleclaude::mesh {

OutboxSendResult InstallerTransport::Send(const std::vector<OutboxDelivery>& deliveries) {
  OutboxSendResult result;
  // Decoded once into one request; a body that does not decode is refused,
  // never sent. at[i]: the index of delivery i's push in `all`, or -1.
  std::vector<int> at(deliveries.size(), -1);
  std::vector<absl::Status> statuses(deliveries.size());
  v1::OnNotificationRequest all;
  for (size_t i = 0; i < deliveries.size(); ++i) {
    absl::StatusOr<v1::NotificationPush> push = DecodeInstallerPush(deliveries[i].body);
    if (!push.ok()) {
      LOG(ERROR) << "push outbox row " << deliveries[i].seq << " (" << deliveries[i].message_id
                 << "): " << push.status().message() << "; dropped";
      statuses[i] = push.status();
      continue;
    }
    at[i] = all.pushes_size();
    *all.add_pushes() = *std::move(push);
  }
  absl::Status sent = all.pushes_size() > 0 ? installer_->OnNotification(all) : absl::OkStatus();
  if (sent.ok()) {
    result.statuses = std::move(statuses);
    return result;
  }
  if (!IsPermanentError(sent)) {
    // Offered again after a backoff (the undecodable ones before the first
    // decodable one are settled).
    for (size_t i = 0; i < deliveries.size() && at[i] < 0; ++i) {
      result.statuses.push_back(statuses[i]);
    }
    result.error = std::move(sent);
    return result;
  }
  // Refused as a batch: find the push it refuses, one call each.
  for (size_t i = 0; i < deliveries.size(); ++i) {
    if (at[i] >= 0) {
      v1::OnNotificationRequest one;
      *one.add_pushes() = all.pushes(at[i]);
      statuses[i] = installer_->OnNotification(one);
      if (!statuses[i].ok() && !IsPermanentError(statuses[i])) {
        result.error = std::move(statuses[i]);
        return result;
      }
      if (!statuses[i].ok()) {
        LOG(ERROR) << "installer refused push " << all.pushes(at[i]).push_id()
                   << " for good; dropped: " << statuses[i];
      }
    }
    result.statuses.push_back(statuses[i]);
  }
  return result;
}

}  // namespace teleclaude::mesh
