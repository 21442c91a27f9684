#include "common/identity/mac_key.h"

#include <sodium/utils.h>

#include "common/base/status_macros.h"
#include "common/identity/internal/sodium.h"
#include "common/identity/transcript.h"

namespace teleclaude::mesh {

MacKey::MacKey(const Key& key) {
  identity_internal::InitSodium();
  crypto_generichash_init(&keyed_, key.data(), key.size(), kTagBytes);
}

MacKey::~MacKey() { sodium_memzero(&keyed_, sizeof(keyed_)); }

MacKey::Tag MacKey::Compute(std::string_view domain,
                            std::initializer_list<std::string_view> fields) const {
  crypto_generichash_state state = keyed_;
  identity_internal::Blake2bSink sink(&state);
  WriteTranscript(domain, fields, sink);
  sink.Flush();
  Tag tag;
  crypto_generichash_final(&state, tag.data(), tag.size());
  sodium_memzero(&state, sizeof(state));
  return tag;
}

bool MacKey::Verify(std::string_view domain, std::initializer_list<std::string_view> fields,
                    const Tag& tag) const {
  const Tag expected = Compute(domain, fields);
  return sodium_memcmp(expected.data(), tag.data(), tag.size()) == 0;
}

std::string MacKey::TagToWire(const Tag& tag) {
  return identity_internal::VersionedBase64(tag.data(), tag.size());
}

void MacKey::AppendTagWire(const Tag& tag, std::string* out) {
  // "v1:" + 44 characters + the NUL sodium_bin2base64 writes.
  constexpr size_t kEncoded = sodium_base64_ENCODED_LEN(kTagBytes, sodium_base64_VARIANT_ORIGINAL);
  const size_t start = out->size();
  out->append("v1:");
  out->resize(start + 3 + kEncoded);
  sodium_bin2base64(out->data() + start + 3, kEncoded, tag.data(), tag.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out->resize(start + 3 + kEncoded - 1);
}

absl::StatusOr<MacKey::Tag> MacKey::TagFromWire(std::string_view field, std::string_view text) {
  Tag tag;
  TM_RETURN_IF_ERROR(identity_internal::DecodeVersionedBase64(field, "a message authenticator",
                                                              text, tag.data(), tag.size()));
  return tag;
}

}  // namespace teleclaude::mesh
