#include "common/identity/local_tokens.h"

#include <sodium/randombytes.h>
#include <sodium/utils.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/grpc/auth_token.h"
#include "common/identity/internal/sodium.h"
#include "glog/logging.h"

namespace teleclaude::mesh {
namespace {

constexpr size_t kRandomBytes = 32;
constexpr size_t kHexDigits = 2 * kRandomBytes;

SecretFileSpec TokenSpec(std::string_view what) {
  SecretFileSpec spec;
  spec.what = what;
  spec.noun = "token";
  spec.short_noun = "token";
  spec.max_bytes = 128;
  spec.malformed =
      "not a token file (expected one line \"teleclaude-owner-\" or \"teleclaude-service-\" "
      "and 64 hex digits)";
  spec.malformed_fix =
      "move it away and restart the services to create a new one (then give telec and "
      "scripts the new owner token)";
  return spec;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The token of a file's content: the line without its newline, when it has
// a known prefix (`prefix`, or either when empty) and 64 hex digits.
absl::StatusOr<SecretBytes> ParseToken(const std::filesystem::path& path,
                                       const SecretFileSpec& spec, std::string_view prefix,
                                       std::string_view text) {
  if (text.ends_with('\n')) text.remove_suffix(1);
  std::string_view body;
  for (std::string_view p : {kOwnerTokenPrefix, kServiceTokenPrefix}) {
    if ((prefix.empty() || prefix == p) && text.starts_with(p)) body = text.substr(p.size());
  }
  if (body.size() != kHexDigits || !IsLowerHex(body)) return spec.Malformed(path);
  return SecretBytes(std::string(text));
}

SecretBytes FreshToken(std::string_view prefix) {
  identity_internal::InitSodium();
  std::array<uint8_t, kRandomBytes> random;
  randombytes_buf(random.data(), random.size());
  std::string text(prefix);
  text.resize(prefix.size() + kHexDigits + 1);
  sodium_bin2hex(text.data() + prefix.size(), kHexDigits + 1, random.data(), random.size());
  sodium_memzero(random.data(), random.size());
  text.back() = '\n';  // replaces the NUL sodium_bin2hex wrote
  return SecretBytes(std::move(text));
}

absl::StatusOr<SecretBytes> LoadOrCreateToken(const std::filesystem::path& path,
                                              std::string_view what, std::string_view prefix,
                                              uid_t owner) {
  const SecretFileSpec spec = TokenSpec(what);
  const SecretBytes fresh = FreshToken(prefix);
  TM_ASSIGN_OR_RETURN(SecretFile file, LoadOrCreateSecretFile(path, spec, fresh.view(), owner));
  if (file.created) LOG(INFO) << "created " << what << " " << path.string();
  return ParseToken(path, spec, prefix, file.content.view());
}

}  // namespace

absl::StatusOr<LocalTokens> LocalTokens::LoadOrCreate(const std::filesystem::path& auth_dir) {
  return LoadOrCreate(auth_dir, geteuid());
}

absl::StatusOr<LocalTokens> LocalTokens::LoadOrCreate(const std::filesystem::path& auth_dir,
                                                      uid_t owner) {
  TM_ASSIGN_OR_RETURN(
      SecretBytes service,
      LoadOrCreateToken(auth_dir / kServiceFile, "service token", kServiceTokenPrefix, owner));
  TM_ASSIGN_OR_RETURN(
      SecretBytes owner_token,
      LoadOrCreateToken(auth_dir / kOwnerFile, "owner token", kOwnerTokenPrefix, owner));
  return LocalTokens(std::move(service), std::move(owner_token), auth_dir / kOwnerFile);
}

std::shared_ptr<const CallAuthenticator> LocalTokens::Authenticator() const {
  return std::make_shared<const CallAuthenticator>(service(), owner(), owner_path_.string());
}

ChannelOptions LocalTokens::ServiceChannel(int max_message_bytes) const {
  ChannelOptions options;
  options.max_message_bytes = max_message_bytes;
  options.auth_token = std::string(service());
  return options;
}

absl::StatusOr<SecretBytes> LocalTokens::LoadTokenFile(const std::filesystem::path& path) {
  const SecretFileSpec spec = TokenSpec("auth token");
  TM_ASSIGN_OR_RETURN(
      SecretBytes content,
      LoadSecretFile(path, spec, geteuid(),
                     Cat("start the services once (they create it), or give --auth_token_file")));
  return ParseToken(path, spec, "", content.view());
}

}  // namespace teleclaude::mesh
