#include "services/installer/policy_guardian.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/strings.h"
#include "common/cartridge/runtime.h"

namespace teleclaude::mesh {
namespace {

struct Forbidden {
  std::string_view name;
  std::string_view why;
};

// Globals that lead out of the sandbox (see the header).
constexpr Forbidden kForbiddenNames[] = {
    {"os", "operating-system access escapes the sandbox"},
    {"io", "file access escapes the sandbox"},
    {"debug", "the debug library escapes the sandbox"},
    {"package", "module loading escapes the sandbox"},
    {"require", "loading modules escapes the sandbox"},
    {"load", "loading code at run time escapes the static review"},
    {"loadstring", "loading code at run time escapes the static review"},
    {"dofile", "running files escapes the sandbox"},
    {"loadfile", "loading files escapes the sandbox"},
    {"collectgarbage", "controlling the garbage collector affects the host"},
    {"_G", "reaching the global environment escapes the sandbox"},
    {"_ENV", "reaching the environment escapes the sandbox"},
    {"getmetatable", "reaching shared metatables escapes the sandbox"},
    {"coroutine",
     "coroutines are not available in cartridges: a coroutine would run outside the call's "
     "limits"},
};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// At s[i] == '[': the level of a long bracket "[==[" (number of '='), or -1.
int LongBracketLevel(std::string_view s, size_t i) {
  size_t j = i + 1;
  while (j < s.size() && s[j] == '=') ++j;
  if (j < s.size() && s[j] == '[') return static_cast<int>(j - i - 1);
  return -1;
}

// Skips a long bracket body opened at s[i] with `level`; returns the index
// after its closing bracket (or s.size()). Counts newlines into `line`.
size_t SkipLong(std::string_view s, size_t i, int level, int* line) {
  size_t j = i + static_cast<size_t>(level) + 2;
  std::string close = absl::StrCat("]", std::string(static_cast<size_t>(level), '='), "]");
  size_t end = s.find(close, j);
  size_t stop = end == std::string_view::npos ? s.size() : end + close.size();
  *line += static_cast<int>(std::count(s.begin() + j, s.begin() + std::min(stop, s.size()), '\n'));
  return stop;
}

}  // namespace

std::optional<std::string> PolicyGuardian::ScanLuaSource(std::string_view s) {
  int line = 1;
  std::string prev;  // previous significant token ("." / ":" / ".." / name ...)
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '\n') {
      ++line;
      ++i;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {  // comment
      i += 2;
      if (i < s.size() && s[i] == '[') {
        int level = LongBracketLevel(s, i);
        if (level >= 0) {
          i = SkipLong(s, i, level, &line);
          continue;
        }
      }
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    if (c == '"' || c == '\'') {  // short string
      ++i;
      while (i < s.size() && s[i] != c && s[i] != '\n') {
        if (s[i] == '\\' && i + 1 < s.size()) {
          if (s[i + 1] == '\n') ++line;
          ++i;
        }
        ++i;
      }
      ++i;
      prev = "string";
      continue;
    }
    if (c == '[') {
      int level = LongBracketLevel(s, i);
      if (level >= 0) {  // long string
        i = SkipLong(s, i, level, &line);
        prev = "string";
        continue;
      }
    }
    if (IsIdentStart(c)) {
      size_t j = i;
      while (j < s.size() && IsIdentChar(s[j])) ++j;
      std::string_view name = s.substr(i, j - i);
      bool member = prev == "." || prev == ":";
      if (member && name == "dump") {
        return absl::StrCat("line ", line,
                            ": uses `dump` (string.dump exposes bytecode and escapes the "
                            "sandbox)");
      }
      if (name == "__gc") {
        return absl::StrCat("line ", line,
                            ": uses `__gc` (finalizers run outside the call's limits; the "
                            "sandbox refuses them)");
      }
      if (!member) {
        for (const Forbidden& f : kForbiddenNames) {
          if (name == f.name)
            return absl::StrCat("line ", line, ": uses `", ToAbsl(name), "` (", ToAbsl(f.why), ")");
        }
      }
      prev = std::string(name);
      i = j;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      while (i < s.size() &&
             (IsIdentChar(s[i]) || (s[i] == '.' && (i + 1 >= s.size() || s[i + 1] != '.')))) {
        ++i;
      }
      prev = "number";
      continue;
    }
    if (c == '.') {
      size_t j = i;
      while (j < s.size() && s[j] == '.' && j - i < 3) ++j;
      prev = std::string(s.substr(i, j - i));
      i = j;
      continue;
    }
    if (c == ':' && i + 1 < s.size() && s[i + 1] == ':') {  // label ::name::
      prev = "::";
      i += 2;
      continue;
    }
    prev = std::string(1, c);
    ++i;
  }
  return std::nullopt;
}

absl::StatusOr<GuardianVerdict> PolicyGuardian::Evaluate(const CartridgeCandidate& cartridge) {
  GuardianVerdict verdict;
  verdict.decided_by = "guardian:policy";
  if (static_cast<int64_t>(cartridge.source.size()) > options_.max_cartridge_bytes) {
    verdict.reason = absl::StrCat("the source is ", cartridge.source.size(),
                                  " bytes, over the limit of ", options_.max_cartridge_bytes);
    return verdict;
  }
  if (FindCartridgeRuntime(cartridge.runtime) == nullptr) {
    verdict.reason = absl::StrCat("runtime \"", cartridge.runtime,
                                  "\" is not allowed; allowed: ", SupportedRuntimeNames());
    return verdict;
  }
  if (options_.allowed_authors.has_value()) {
    const auto& allowed = *options_.allowed_authors;
    if (std::find(allowed.begin(), allowed.end(), cartridge.author) == allowed.end()) {
      verdict.reason =
          absl::StrCat("author \"", cartridge.author, "\" is not in --guardian_allowed_authors (",
                       absl::StrJoin(allowed, ", "), ")");
      return verdict;
    }
  }
  if (std::optional<std::string> hit = ScanLuaSource(cartridge.source)) {
    verdict.reason = absl::StrCat("static scan: ", *hit);
    return verdict;
  }
  verdict.approved = true;
  verdict.reason = "passed the built-in policy (size, runtime, author, static scan)";
  return verdict;
}

}  // namespace teleclaude::mesh
