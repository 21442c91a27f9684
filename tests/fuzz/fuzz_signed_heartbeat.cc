// libFuzzer target: DecodeSignedHeartbeat on an arbitrary Redis key and
// value (any computer, or anyone with Redis access, writes heartbeats). The
// input's first line is the key, the rest the value. Checked: a refusal is
// one line starting "heartbeat: "; an accepted heartbeat carries the key's
// name, a signer's fingerprint is its key's and its signature verifies over
// HeartbeatSignedBytes; re-encoding it (with its own signature, or signed
// anew by a fixed key) decodes to the same heartbeat and signer; a signed
// heartbeat with one signed byte changed no longer verifies. Membership's
// HeartbeatDecodeCache (one per process, 8 keys, so it fills and forgets
// across inputs) answers exactly as DecodeSignedHeartbeat for every value,
// and refuses the altered one after alpha's valid one was cached under the
// same key. Any violation aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/base/utf8.h"
#include "common/mesh/heartbeat.h"
#include "common/mesh/heartbeat_decode_cache.h"
#include "tests/fuzz/fuzz_keys.h"

namespace {

using namespace teleclaude::mesh;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_signed_heartbeat: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// Re-encoding may grow the text past the size limit (Python style escapes
// each non-ASCII or DEL byte as six characters); then there is nothing to
// compare.
void CheckSame(const CheckedHeartbeat& a, const absl::StatusOr<CheckedHeartbeat>& b,
               const char* what, const std::string& text) {
  if (text.size() > kMaxHeartbeatBytes) return;
  if (!b.ok()) Fail(what, text + "\n" + std::string(b.status().message()));
  if (!(b->heartbeat == a.heartbeat)) Fail(what, text);
  if (a.signer.has_value() != b->signer.has_value()) Fail(what, text);
  if (a.signer.has_value() && (!(a.signer->public_key == b->signer->public_key) ||
                               !(a.signer->signature == b->signer->signature) ||
                               a.signer->last_seen != b->signer->last_seen)) {
    Fail(what, text);
  }
}

HeartbeatDecodeCache& Cache() {
  static HeartbeatDecodeCache* cache = new HeartbeatDecodeCache(8);
  return *cache;
}

// The cache's answer for (key, value) is DecodeSignedHeartbeat's, `direct`.
void CheckCacheAgrees(std::string_view key, std::string_view value,
                      const absl::StatusOr<CheckedHeartbeat>& direct) {
  absl::StatusOr<CheckedHeartbeat> cached = Cache().Decode(key, value);
  if (!direct.ok()) {
    if (cached.status() != direct.status()) {
      Fail("cache disagrees on a refusal",
           cached.status().ToString() + " vs " + direct.status().ToString());
    }
    return;
  }
  CheckSame(*direct, cached, "cache disagrees", std::string(value));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view key = input.substr(0, newline);
  const std::string_view value =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  if (size % 4 == 0) Cache().EndRead();
  absl::StatusOr<CheckedHeartbeat> checked = DecodeSignedHeartbeat(key, value);
  CheckCacheAgrees(key, value, checked);
  CheckCacheAgrees(key, value, checked);  // now from the cache (when it kept it)
  if (!checked.ok()) {
    const std::string message(checked.status().message());
    if (!message.starts_with("heartbeat: ")) Fail("refusal does not name the heartbeat", message);
    if (message.find('\n') != std::string::npos || !IsValidUtf8(message)) {
      Fail("refusal is not one line of UTF-8", message);
    }
    return 0;
  }
  const Heartbeat& hb = checked->heartbeat;
  if (HeartbeatKey(hb.computer_name) != key) Fail("accepted under another key", std::string(key));
  const std::string own_key = HeartbeatKey(hb.computer_name);
  if (checked->signer.has_value()) {
    const HeartbeatSigner& s = *checked->signer;
    if (!(s.fingerprint == Fingerprint::Of(s.public_key))) Fail("fingerprint not the key's", "");
    const std::string signed_bytes = HeartbeatSignedBytes(hb, s.public_key);
    if (!s.public_key.Verify(signed_bytes, s.signature)) Fail("signature does not verify", "");
    const std::string again = EncodeSignedHeartbeat(hb, s.public_key, s.signature);
    CheckSame(*checked, DecodeSignedHeartbeat(own_key, again), "re-encoded heartbeat differs",
              again);
  } else {
    const std::string again = EncodeHeartbeat(hb);
    CheckSame(*checked, DecodeSignedHeartbeat(own_key, again), "re-encoded heartbeat differs",
              again);
  }
  // Signed anew by a known key: accepted with that signer (unless the
  // identity fields push it over the size limit, or it was unsigned with a
  // last_seen that is not a date-time, which a signed heartbeat needs);
  // with its last_seen changed, refused.
  const std::string by_alpha = EncodeSignedHeartbeat(hb, fuzz::AlphaKey());
  if (by_alpha.size() > kMaxHeartbeatBytes) return 0;
  absl::StatusOr<CheckedHeartbeat> signed_again = DecodeSignedHeartbeat(own_key, by_alpha);
  if (!signed_again.ok()) {
    if (!checked->signer.has_value() &&
        std::string(signed_again.status().message()).starts_with("heartbeat: last_seen: ")) {
      return 0;
    }
    Fail("heartbeat signed by alpha refused",
         by_alpha + "\n" + std::string(signed_again.status().message()));
  }
  if (!signed_again->signer.has_value() ||
      !(signed_again->signer->public_key == fuzz::AlphaKey().public_key()) ||
      !(signed_again->heartbeat == hb)) {
    Fail("heartbeat signed by alpha reads differently", by_alpha);
  }
  Heartbeat altered = hb;
  altered.last_seen += "0";
  const std::string forged = EncodeSignedHeartbeat(altered, signed_again->signer->public_key,
                                                   signed_again->signer->signature);
  absl::StatusOr<CheckedHeartbeat> refused = DecodeSignedHeartbeat(own_key, forged);
  if (refused.ok()) Fail("altered last_seen still verifies", forged);
  // The same through the cache, alpha's valid value cached first.
  CheckCacheAgrees(own_key, by_alpha, signed_again);
  CheckCacheAgrees(own_key, forged, refused);
  return 0;
}
