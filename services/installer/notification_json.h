// The first check of the installer's OnNotification handler (issue 18: a
// payload nested 200,000 deep crashed it): every JSON text of the request
// within common/json's bounds before any of it is read.
#ifndef TELECLAUDE_MESH_SERVICES_INSTALLER_NOTIFICATION_JSON_H_
#define TELECLAUDE_MESH_SERVICES_INSTALLER_NOTIFICATION_JSON_H_

#include "absl/status/status.h"
#include "teleclaude/mesh/v1/installer.pb.h"

namespace teleclaude::mesh {

// Every JSON text of an OnNotification request (each push's envelope
// payload_json, actions_json, resolution_shape_json, extra_json and its
// resolution_json) is one JSON value within common/json's bounds (size,
// nesting). Egress only pushes what its own decoder accepted, so the
// installer refuses a request that fails this whole, before reading any of
// it: INVALID_ARGUMENT "pushes[I].<field>: not valid JSON: ... at offset N".
absl::Status CheckNotificationJson(const v1::OnNotificationRequest& request);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_INSTALLER_NOTIFICATION_JSON_H_
