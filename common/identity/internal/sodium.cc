#include "common/identity/internal/sodium.h"

#include <sodium/core.h>
#include <sodium/utils.h>

#include <cstring>

#include "common/base/show_bytes.h"
#include "common/base/strings.h"
#include "glog/logging.h"

namespace teleclaude::mesh::identity_internal {

namespace {
constexpr std::string_view kVersionPrefix = "v1:";
}  // namespace

void InitSodium() {
  // A function-local static: initialised once, thread-safe.
  static const bool initialised = [] {
    CHECK_GE(sodium_init(), 0) << "libsodium cannot initialise (no randomness source?)";
    return true;
  }();
  (void)initialised;
}

std::string Base64(const uint8_t* data, size_t size) {
  const size_t encoded = sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL);
  std::string out(encoded, '\0');
  sodium_bin2base64(out.data(), encoded, data, size, sodium_base64_VARIANT_ORIGINAL);
  out.resize(encoded - 1);  // the encoded length counts the terminating NUL
  return out;
}

absl::Status DecodeBase64Exact(std::string_view field, std::string_view what, std::string_view text,
                               uint8_t* out, size_t size) {
  const size_t expected_chars = (size + 2) / 3 * 4;
  auto error = [&] {
    return absl::InvalidArgumentError(Cat(field, ": expected ", what, " (base64 of ", size,
                                          " bytes, ", expected_chars, " characters), got ",
                                          ShowBytes(text)));
  };
  if (text.size() != expected_chars) return error();
  size_t decoded = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out, size, text.data(), text.size(), /*ignore=*/nullptr, &decoded, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      decoded != size || end != text.data() + text.size()) {
    return error();
  }
  // The length is exact and libsodium refuses non-zero padding bits, so
  // only the canonical spelling of the bytes is accepted.
  return absl::OkStatus();
}

std::string VersionedBase64(const uint8_t* data, size_t size) {
  return Cat(kVersionPrefix, Base64(data, size));
}

absl::Status DecodeVersionedBase64(std::string_view field, std::string_view what,
                                   std::string_view text, uint8_t* out, size_t size) {
  if (!text.starts_with(kVersionPrefix)) {
    const size_t colon = text.find(':');
    if (colon != std::string_view::npos && colon > 0 && colon <= 8 && text[0] == 'v') {
      return absl::InvalidArgumentError(
          Cat(field, ": version ", ShowBytes(text.substr(0, colon)),
              " is not one this computer reads (it reads v1); upgrade this computer"));
    }
    return absl::InvalidArgumentError(
        Cat(field, ": expected v1:<", what, " in base64>, got ", ShowBytes(text)));
  }
  return DecodeBase64Exact(field, what, text.substr(kVersionPrefix.size()), out, size);
}

void Blake2bSink::operator()(std::string_view bytes) {
  if (bytes.size() > sizeof(buffer_) - used_) {
    Flush();
    if (bytes.size() >= sizeof(buffer_)) {
      crypto_generichash_update(state_, reinterpret_cast<const unsigned char*>(bytes.data()),
                                bytes.size());
      return;
    }
  }
  std::memcpy(buffer_ + used_, bytes.data(), bytes.size());
  used_ += bytes.size();
}

void Blake2bSink::Flush() {
  if (used_ > 0) crypto_generichash_update(state_, buffer_, used_);
  used_ = 0;
}

}  // namespace teleclaude::mesh::identity_internal
