// Checks the envelope fuzz targets share. Each returns whether the property
// holds; the target aborts (with its own name and the input) when not.
#ifndef TELECLAUDE_MESH_TESTS_FUZZ_ENVELOPE_FUZZ_CHECKS_H_
#define TELECLAUDE_MESH_TESTS_FUZZ_ENVELOPE_FUZZ_CHECKS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/json/json_text.h"

namespace teleclaude::mesh::fuzz {

// Whether two results are the same: both values, equal, or both errors,
// with equal statuses.
template <typename T>
bool SameResult(const absl::StatusOr<T>& a, const absl::StatusOr<T>& b) {
  if (a.ok() != b.ok()) return false;
  return a.ok() ? *a == *b : a.status() == b.status();
}

// Whether Canonicalize's shortcut (AppendCanonicalIfPlain) and the full
// parser give the same result for `text`: the same canonical text, or the
// same error.
inline bool CanonicalizeShortcutAgrees(std::string_view text) {
  return SameResult(json::Canonicalize(text, json::NonFinite::kKeep),
                    json::CanonicalizeWithParser(text, json::NonFinite::kKeep));
}

}  // namespace teleclaude::mesh::fuzz

#endif  // TELECLAUDE_MESH_TESTS_FUZZ_ENVELOPE_FUZZ_CHECKS_H_
