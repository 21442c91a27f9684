#include "common/identity/trusted_keys.h"

#include <cerrno>
#include <fstream>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "common/base/show_bytes.h"
#include "common/base/strings.h"
#include "common/base/utf8.h"
#include "common/config/config.h"
#include "common/identity/internal/sodium.h"

namespace teleclaude::mesh {

namespace {

constexpr std::string_view kExample = "alpha mzxw-6ytb-oi3d-qnzr-gu4t-cnbv-ga2d-enrq";

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

absl::Status LineError(int line, std::string_view what, std::string_view fix) {
  return absl::InvalidArgumentError(Cat("line ", line, ": ", what, "; ", fix));
}

// The message of `status` without its "<field>: " prefix.
std::string_view WithoutField(const absl::Status& status, std::string_view field) {
  std::string_view m = ToStd(status.message());
  const std::string prefix = Cat(field, ": ");
  if (m.starts_with(prefix)) m.remove_prefix(prefix.size());
  return m;
}

}  // namespace

absl::StatusOr<TrustedKeys> TrustedKeys::Parse(std::string_view text) {
  if (text.size() > kMaxFileBytes) {
    return absl::InvalidArgumentError(Cat(text.size(), " bytes, more than ", kMaxFileBytes,
                                          "; list at most ", kMaxEntries,
                                          " computers, one \"name fingerprint\" per line"));
  }
  TrustedKeys keys;
  absl::flat_hash_map<std::string, int> seen;
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    size_t i = 0;
    while (i < line.size() && IsBlank(line[i])) ++i;
    if (i == line.size() || line[i] == '#') continue;
    // Split into words at runs of blanks.
    std::vector<std::string_view> words;
    while (i < line.size()) {
      size_t j = i;
      while (j < line.size() && !IsBlank(line[j])) ++j;
      words.push_back(line.substr(i, j - i));
      while (j < line.size() && IsBlank(line[j])) ++j;
      i = j;
      if (words.size() > 2) break;
    }
    if (words.size() != 2) {
      return LineError(line_number,
                       words.size() < 2 ? "expected a name and a fingerprint, found one word"
                                        : "expected a name and a fingerprint, found more words",
                       Cat("write \"NAME FINGERPRINT\", e.g. \"", kExample,
                           "\" (comments start a line with '#')"));
    }
    const std::string_view name = words[0];
    if (!IsValidUtf8(name)) {
      return LineError(line_number, Cat("the name ", ShowBytes(name), " is not valid UTF-8"),
                       "write the computer's name as its --computer_name");
    }
    if (absl::Status ok = ValidateName("name", name); !ok.ok()) {
      return LineError(line_number, EscapeForMessage(WithoutField(ok, "name")),
                       "write the computer's name as its --computer_name");
    }
    absl::StatusOr<Fingerprint> fingerprint = Fingerprint::Parse("fingerprint", words[1]);
    if (!fingerprint.ok()) {
      return LineError(
          line_number,
          Cat("fingerprint of ", name, ": ", WithoutField(fingerprint.status(), "fingerprint")),
          "copy the fingerprint the computer shows for itself");
    }
    auto [it, inserted] = seen.try_emplace(std::string(name), line_number);
    if (!inserted) {
      return LineError(line_number, Cat(name, " is already listed on line ", it->second),
                       "keep one line per computer");
    }
    if (keys.entries_.size() == kMaxEntries) {
      return LineError(line_number, Cat("more than ", kMaxEntries, " computers"),
                       "split the mesh or raise the limit");
    }
    keys.entries_.push_back(TrustedKey{std::string(name), *fingerprint, line_number});
  }
  return keys;
}

absl::StatusOr<TrustedKeys> TrustedKeys::LoadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const std::string what =
        Cat("trusted_keys: ", path.string(),
            ": cannot read: ", std::error_code(err, std::generic_category()).message());
    return err == ENOENT ? absl::NotFoundError(what) : absl::FailedPreconditionError(what);
  }
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) {
    return absl::FailedPreconditionError(
        Cat("trusted_keys: ", path.string(), ": cannot read the file"));
  }
  text.resize(static_cast<size_t>(in.gcount()));
  absl::StatusOr<TrustedKeys> keys = Parse(text);
  if (!keys.ok()) {
    return absl::InvalidArgumentError(
        Cat("trusted_keys: ", path.string(), ": ", ToStd(keys.status().message())));
  }
  return keys;
}

const TrustedKey* TrustedKeys::Find(std::string_view name) const {
  for (const TrustedKey& k : entries_) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

std::string TrustedKeys::ToText() const {
  std::string out;
  for (const TrustedKey& k : entries_) CatTo(out, k.name, " ", k.fingerprint.ToString(), "\n");
  return out;
}

}  // namespace teleclaude::mesh
