// libFuzzer target: the JSON the installer's OnNotification handler reads
// from a request (issue 18: a 200,000-deep payload crashed it). The input
// builds a request of up to four pushes (FuzzedDataProvider: an event type
// from the set the handler distinguishes, then each JSON field as fuzzed
// text); the handler's reading path then runs as in
// CartridgeInstaller::OnNotification: CheckNotificationJson, and only when
// that passes, ParseCartridgePayload and the json::GetMemberString reads.
// Invariants (any violation aborts): every error is INVALID_ARGUMENT; the
// check's error names "pushes[I]."; a text nested deeper than json::kMaxDepth
// or larger than json::kMaxTextBytes never passes the check; nothing after a
// passed check crashes (ASan/UBSan).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "common/json/json_text.h"
#include "common/json/options.h"
#include "services/installer/cartridge_payload.h"
#include "services/installer/notification_json.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_installer_request: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// Nesting of `text` counted over brackets outside strings (an upper bound of
// the JSON depth; exact for valid JSON).
int MaxNesting(const std::string& text) {
  int depth = 0, max = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max = std::max(max, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace teleclaude::mesh;
  FuzzedDataProvider in(data, size);
  v1::OnNotificationRequest request;
  const int pushes = in.ConsumeIntegralInRange(1, 4);
  for (int i = 0; i < pushes; ++i) {
    v1::NotificationPush* p = request.add_pushes();
    static constexpr const char* kTypes[] = {"cartridge.published", "cartridge.install_pending",
                                             "demo.other"};
    p->set_event_type(kTypes[in.ConsumeIntegralInRange(0, 2)]);
    p->set_was_created(in.ConsumeBool());
    p->set_resolved(in.ConsumeBool());
    p->mutable_envelope()->set_payload_json(in.ConsumeRandomLengthString());
    if (in.ConsumeBool()) p->mutable_envelope()->set_actions_json(in.ConsumeRandomLengthString());
    if (in.ConsumeBool()) p->mutable_envelope()->set_extra_json(in.ConsumeRandomLengthString());
    if (in.ConsumeBool()) p->set_resolution_json(in.ConsumeRandomLengthString());
  }
  absl::Status checked = CheckNotificationJson(request);
  if (!checked.ok()) {
    if (!absl::IsInvalidArgument(checked)) Fail("not INVALID_ARGUMENT", checked.ToString());
    if (!absl::StartsWith(checked.message(), "pushes[")) Fail("names no push", checked.ToString());
    return 0;
  }
  for (const v1::NotificationPush& push : request.pushes()) {
    const std::string& payload = push.envelope().payload_json();
    for (const std::string* text : {&payload, &push.resolution_json()}) {
      if (MaxNesting(*text) > json::kMaxDepth) Fail("deep text passed the check", *text);
    }
    const std::string object = payload.empty() ? "{}" : payload;
    (void)json::GetMemberString(object, "_mesh_source");
    (void)json::GetMemberString(object, "name");
    (void)json::GetMemberString(push.resolution_json().empty() ? "{}" : push.resolution_json(),
                                "decision");
    if (push.event_type() == "cartridge.published") {
      absl::StatusOr<CartridgeCandidate> c = ParseCartridgePayload(object, 4096, "peer");
      if (!c.ok() && !absl::IsInvalidArgument(c.status())) {
        Fail("payload error not INVALID_ARGUMENT", c.status().ToString());
      }
    }
  }
  return 0;
}
