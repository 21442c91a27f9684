#include "common/identity/mac_key.h"

#include <pthread.h>
#include <sodium/crypto_aead_xchacha20poly1305.h>
#include <sodium/randombytes.h>
#include <sodium/utils.h>

#include <atomic>
#include <cstring>

#include "common/base/status_macros.h"
#include "common/identity/internal/sodium.h"
#include "common/identity/transcript.h"

namespace teleclaude::mesh {

namespace {

static_assert(MacKey::kNonceBytes == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(MacKey::kPolyTagBytes == crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(MacKey::kKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

// The process's nonce prefix (random) and counter. A forked child draws a
// new prefix before it runs anything else (pthread_atfork; the child has one
// thread then), so parent and child never share nonces.
class NonceSource {
 public:
  NonceSource() {
    Draw();
    pthread_atfork(nullptr, nullptr, [] { Instance().Draw(); });
  }
  static NonceSource& Instance() {
    static NonceSource source;  // thread-safe initialisation
    return source;
  }
  void Next(uint8_t* out) {
    std::memcpy(out, prefix_, sizeof(prefix_));
    uint64_t n = counter_.fetch_add(1, std::memory_order_relaxed);
    for (int i = 7; i >= 0; --i) {
      out[sizeof(prefix_) + i] = static_cast<uint8_t>(n & 0xff);
      n >>= 8;
    }
  }

 private:
  void Draw() {
    randombytes_buf(prefix_, sizeof(prefix_));
    counter_.store(0, std::memory_order_relaxed);
  }

  uint8_t prefix_[MacKey::kNonceBytes - 8];  // written only before other threads can read it
  std::atomic<uint64_t> counter_{0};
};

// The transcript as one buffer (the AEAD takes its associated data in one
// piece); reused per thread, so warm calls allocate nothing.
std::string_view TranscriptInBuffer(std::string_view domain,
                                    std::initializer_list<std::string_view> fields) {
  thread_local std::string buffer;
  buffer.clear();
  WriteTranscript(domain, fields, [](std::string_view piece) { buffer.append(piece); });
  return buffer;
}

}  // namespace

MacKey::MacKey(const Key& key) : key_(key) { identity_internal::InitSodium(); }

MacKey::~MacKey() { sodium_memzero(key_.data(), key_.size()); }

MacKey::Tag MacKey::Compute(std::string_view domain,
                            std::initializer_list<std::string_view> fields) const {
  Tag tag;
  NonceSource::Instance().Next(tag.data());
  const std::string_view ad = TranscriptInBuffer(domain, fields);
  unsigned long long tag_length = 0;
  unsigned char empty[1];  // no ciphertext (libsodium wants a pointer all the same)
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
      /*c=*/empty, tag.data() + kNonceBytes, &tag_length, /*m=*/nullptr, 0,
      reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), /*nsec=*/nullptr, tag.data(),
      key_.data());
  return tag;
}

bool MacKey::Verify(std::string_view domain, std::initializer_list<std::string_view> fields,
                    const Tag& tag) const {
  const std::string_view ad = TranscriptInBuffer(domain, fields);
  const unsigned char empty[1] = {0};  // no ciphertext (libsodium wants a pointer all the same)
  return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
             /*m=*/nullptr, /*nsec=*/nullptr, /*c=*/empty, 0, tag.data() + kNonceBytes,
             reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), tag.data(),
             key_.data()) == 0;
}

std::string MacKey::TagToWire(const Tag& tag) {
  return identity_internal::VersionedBase64(tag.data(), tag.size());
}

void MacKey::AppendTagWire(const Tag& tag, std::string* out) {
  // "v1:" + 56 characters + the NUL sodium_bin2base64 writes.
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
