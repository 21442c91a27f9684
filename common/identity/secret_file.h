// A small file holding a secret of this computer (the identity key, the local
// RPC tokens): read it when it exists, otherwise create it atomically, and
// refuse it when anyone but its owner could read or change it
// (doc/security.md "Key storage", "Local RPC authentication").
//
// Thread-safe (no state); safe against other processes creating the same
// file at the same moment.
#ifndef TELECLAUDE_MESH_COMMON_IDENTITY_SECRET_FILE_H_
#define TELECLAUDE_MESH_COMMON_IDENTITY_SECRET_FILE_H_

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace teleclaude::mesh {

// Bytes of a secret, wiped from memory when destroyed. Move-only.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string bytes) : bytes_(std::move(bytes)) {}
  ~SecretBytes();
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  std::string_view view() const { return bytes_; }

 private:
  std::string bytes_;
};

struct SecretFileSpec {
  // What the file holds, first words of every error ("identity key",
  // "owner token").
  std::string_view what;
  // The secret in the refusal of a loose mode: "lets other users read or
  // change the <noun>; ... (and consider the <short_noun> exposed ...)".
  std::string_view noun = "secret";
  std::string_view short_noun = "secret";
  // Content longer than this is not a valid file (read no further).
  size_t max_bytes = 256;
  // The refusal of content that is not a valid file (too long here; the
  // caller's own checks use it too, through Malformed()): problem and fix.
  std::string_view malformed = "not a valid file";
  std::string_view malformed_fix = "move it away to create a new one";

  // FAILED_PRECONDITION "<what> PATH: <malformed>; <malformed_fix>".
  absl::Status Malformed(const std::filesystem::path& path) const;
};

struct SecretFile {
  SecretBytes content;
  bool created = false;  // this call created the file
};

// Reads the secret file at `path`, owned by `owner`. When there is no file,
// first creates it holding `fresh` (which the caller made from fresh
// randomness), atomically: `fresh` goes to a new temporary file (O_EXCL, mode
// 0600 whatever the umask), fsync'ed, and is moved to `path` only if `path`
// still does not exist (renameat2 RENAME_NOREPLACE, or link(2) where the file
// system lacks it), so processes starting at once all end with the one file
// that won. Never replaces an existing file.
//
// Refused with FAILED_PRECONDITION "<what> PATH: <problem>; <fix>" when the
// file is a symbolic link or not a regular file, is not owned by `owner`, can
// be read or written by group or others (mode & 077), or is longer than
// spec.max_bytes (spec.Malformed()); file system errors are INTERNAL with the errno's message.
absl::StatusOr<SecretFile> LoadOrCreateSecretFile(const std::filesystem::path& path,
                                                  const SecretFileSpec& spec,
                                                  std::string_view fresh, uid_t owner);

// Reads an existing secret file (no creation): as above, and NOT_FOUND
// "<what> PATH: no such file; <missing_fix>" when there is none.
absl::StatusOr<SecretBytes> LoadSecretFile(const std::filesystem::path& path,
                                           const SecretFileSpec& spec, uid_t owner,
                                           std::string_view missing_fix);

// FAILED_PRECONDITION "<what> PATH: <problem>; <fix>", the shape of every
// refusal above, for callers that find the content invalid.
absl::Status SecretFileRefused(std::string_view what, const std::filesystem::path& path,
                               std::string_view problem, std::string_view fix);

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_IDENTITY_SECRET_FILE_H_
