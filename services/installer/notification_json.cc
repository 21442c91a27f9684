#include "services/installer/notification_json.h"

#include <string_view>
#include <utility>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/json/reader.h"

namespace teleclaude::mesh {

absl::Status CheckNotificationJson(const v1::OnNotificationRequest& request) {
  for (int i = 0; i < request.pushes_size(); ++i) {
    const v1::NotificationPush& push = request.pushes(i);
    const v1::EventEnvelope& e = push.envelope();
    for (const auto& [field, text] :
         {std::pair<std::string_view, std::string_view>{"envelope.payload_json", e.payload_json()},
          {"envelope.actions_json", e.actions_json()},
          {"envelope.resolution_shape_json", e.resolution_shape_json()},
          {"envelope.extra_json", e.extra_json()},
          {"resolution_json", push.resolution_json()}}) {
      if (text.empty()) continue;
      TM_RETURN_IF_ERROR(json::ValidateJsonText(text, Cat("pushes[", i, "].", field)));
    }
  }
  return absl::OkStatus();
}

}  // namespace teleclaude::mesh
