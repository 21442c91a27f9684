// The pre-provisioned pinned keys of `--trusted_keys=FILE` (doc/security.md
// "Pinning"): one computer per line, its name and its key fingerprint
// (fingerprint.h), separated by spaces or tabs:
//
//   # the build farm
//   alpha   mzxw-6ytb-oi3d-qnzr-gu4t-cnbv-ga2d-enrq
//   beta    k5sw-4zlt-mfzg-k3tf-nfxg-o5dj-mvzg-c3dj
//
// A line whose first non-blank character is '#' is a comment; blank lines
// are ignored; "\r\n" line ends are accepted. A name is a valid computer
// name (config.h ValidateName) in UTF-8 and appears once. At most
// kMaxFileBytes bytes and kMaxEntries entries. Value type; immutable after
// parsing; thread-safe.
#ifndef TELECLAUDE_MESH_COMMON_IDENTITY_TRUSTED_KEYS_H_
#define TELECLAUDE_MESH_COMMON_IDENTITY_TRUSTED_KEYS_H_

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/identity/fingerprint.h"

namespace teleclaude::mesh {

struct TrustedKey {
  std::string name;
  Fingerprint fingerprint;
  int line;  // 1-based line number in the file

  friend bool operator==(const TrustedKey&, const TrustedKey&) = default;
};

class TrustedKeys {
 public:
  static constexpr size_t kMaxFileBytes = 64 * 1024;
  static constexpr size_t kMaxEntries = 1024;

  // Parses the file's text. INVALID_ARGUMENT with one line "line N: <what>;
  // <fix>" for the first bad line (or "<N> bytes, more than ..." for an
  // oversize text).
  static absl::StatusOr<TrustedKeys> Parse(std::string_view text);

  // Reads and parses the file at `path` (reading at most kMaxFileBytes + 1
  // bytes). Errors are one line "trusted_keys: PATH: <what>" (the file
  // cannot be read: NOT_FOUND / the errno's message; bad contents:
  // INVALID_ARGUMENT with Parse's message).
  static absl::StatusOr<TrustedKeys> LoadFile(const std::filesystem::path& path);

  // The entry for `name`, or nullptr.
  const TrustedKey* Find(std::string_view name) const;
  // Entries in file order.
  const std::vector<TrustedKey>& entries() const { return entries_; }

  // The entries as file text ("name fingerprint\n" each); Parse() of it
  // gives the same names and fingerprints.
  std::string ToText() const;

 private:
  std::vector<TrustedKey> entries_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_IDENTITY_TRUSTED_KEYS_H_
