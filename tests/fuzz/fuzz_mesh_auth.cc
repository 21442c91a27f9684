// libFuzzer target: the authentication fields of a mesh message
// (DecodeMeshMessageAuth, VerifyMeshMessageAuth) on arbitrary stream entries
// of `messages:beta` (anyone with Redis access writes there). The input is
// split into fields as in fuzz_mesh_entry (tests/fuzz/fuzz_fields.h).
// Checked: a refusal is one line naming auth, sent_at or message_id; a tag
// beta verifies as alpha's also verifies under K(alpha->beta) and not under
// K(beta->alpha); a message authenticated anew
// by alpha verifies, and no longer does with one payload byte changed, the
// sent_at moved by 1 ms or the sender renamed. Any violation aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/base/utf8.h"
#include "common/mesh/mesh_message.h"
#include "tests/fuzz/fuzz_fields.h"
#include "tests/fuzz/fuzz_keys.h"

namespace {

using namespace teleclaude::mesh;

constexpr std::string_view kStream = "messages:beta";

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_mesh_auth: %s\n%s\n", what, detail.c_str());
  std::abort();
}

bool Verifies(const MeshMessage& m) {
  absl::StatusOr<std::optional<MeshMessageAuth>> auth = DecodeMeshMessageAuth(m);
  if (!auth.ok() || !auth->has_value()) return false;
  return VerifyMeshMessageAuth(fuzz::BetaWithAlpha().receive, kStream, m, **auth).ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const MeshMessage m = ParseMeshMessage(fuzz::FieldsFromBytes(input));
  absl::StatusOr<std::optional<MeshMessageAuth>> auth = DecodeMeshMessageAuth(m);
  if (!auth.ok()) {
    const std::string message(auth.status().message());
    if (!message.starts_with("auth: ") && !message.starts_with("sent_at: ") &&
        !message.starts_with("message_id: ")) {
      Fail("refusal names no field", message);
    }
    if (message.find('\n') != std::string::npos || !IsValidUtf8(message)) {
      Fail("refusal is not one line of UTF-8", message);
    }
    return 0;
  }
  if (auth->has_value()) {
    const MeshMessageAuth& a = **auth;
    if (!m.sent_at.has_value() || std::to_string(a.sent_at_ms) != *m.sent_at) {
      Fail("sent_at does not round-trip", m.sent_at.value_or("(none)"));
    }
    absl::Status verified = VerifyMeshMessageAuth(fuzz::BetaWithAlpha().receive, kStream, m, a);
    if (verified.ok()) {
      // Only K(alpha->beta) makes such a tag: alpha's send key verifies it
      // too, beta's own send key (the other direction) does not.
      const std::initializer_list<std::string_view> fields = {
          *m.source_computer, kStream, *m.message_id, *m.sent_at, *m.payload};
      if (!fuzz::AlphaWithBeta().send.Verify(kMeshMessageAuthDomain, fields, a.tag) ||
          fuzz::BetaWithAlpha().send.Verify(kMeshMessageAuthDomain, fields, a.tag)) {
        Fail("verified a tag not made with K(alpha->beta)", *m.auth);
      }
    } else if (!absl::IsUnauthenticated(verified) && !absl::IsInvalidArgument(verified)) {
      Fail("unexpected verification status", verified.ToString());
    }
  }
  // The same content authenticated anew by alpha.
  const std::string payload = m.payload.value_or("");
  const std::string source = m.source_computer.value_or("alpha");
  const std::string id = m.message_id.value_or("").empty() ? "alpha/x/beta" : *m.message_id;
  const int64_t sent_at = auth.ok() && auth->has_value() ? (*auth)->sent_at_ms : 1740832496789;
  const auto fields = EncodeAuthenticatedMeshMessage(fuzz::AlphaWithBeta().send, kStream, payload,
                                                     source, id, sent_at);
  MeshMessage fresh = ParseMeshMessage(fields);
  if (!Verifies(fresh)) Fail("alpha's own message does not verify", payload);
  MeshMessage tampered = fresh;
  if (!tampered.payload->empty()) {
    (*tampered.payload)[tampered.payload->size() / 2] ^= 0x20;
    if (Verifies(tampered)) Fail("tampered payload verifies", *tampered.payload);
  }
  MeshMessage later = fresh;
  later.sent_at = std::to_string(sent_at + 1);
  if (Verifies(later)) Fail("moved sent_at verifies", *later.sent_at);
  MeshMessage renamed = fresh;
  renamed.source_computer = source + "x";
  if (Verifies(renamed)) Fail("renamed sender verifies", *renamed.source_computer);
  return 0;
}
