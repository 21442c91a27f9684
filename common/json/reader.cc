#include "common/json/reader.h"

#include <algorithm>

#include "common/base/strings.h"
#include "rapidjson/error/en.h"

namespace teleclaude::mesh::json {

char* InsituBuffer(std::string_view text) {
  thread_local std::vector<char> buffer;
  buffer.resize(text.size() + 32);
  std::memcpy(buffer.data(), text.data(), text.size());
  std::memset(buffer.data() + text.size(), 0, 32);
  return buffer.data();
}

std::string PatchBigNumbers(std::string_view text, std::vector<NumberPatch>* patches) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '"') {
      size_t start = i++;
      while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
      i = std::min(i + 1, text.size());
      out.append(text, start, i - start);
      continue;
    }
    if (c != '-' && (c < '0' || c > '9')) {
      out.push_back(c);
      ++i;
      continue;
    }
    size_t start = i;
    size_t exp_at = std::string_view::npos;
    while (i < text.size()) {
      char d = text[i];
      if (d == 'e' || d == 'E') {
        exp_at = i;
      } else if (!(d == '-' || d == '+' || d == '.' || (d >= '0' && d <= '9'))) {
        break;
      }
      ++i;
    }
    std::string_view token = text.substr(start, i - start);
    bool big = token.size() > 300;
    if (!big && exp_at != std::string_view::npos) {
      size_t digits = 0;
      for (size_t k = exp_at + 1; k < i; ++k) {
        if (text[k] >= '0' && text[k] <= '9' && (digits > 0 || text[k] != '0')) {
          ++digits;
        }
      }
      big = digits >= 3;
    }
    if (big) {
      out.append("Inf");
      patches->push_back(NumberPatch{out.size(), std::string(token)});
    } else {
      out.append(token);
    }
  }
  return out;
}

namespace {

// Accepts every SAX event (ParseJson's bounds do the checking).
struct AcceptAll : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, AcceptAll> {
  bool Default() { return true; }
};

}  // namespace

absl::Status ValidateJsonText(std::string_view text, std::string_view what) {
  AcceptAll accept;
  return ParseJson(text, accept, what, nullptr, [] {});
}

absl::Status CheckTextSize(std::string_view text, std::string_view what) {
  if (text.size() <= kMaxTextBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(
      Cat(what, ": ", text.size(), " bytes of JSON; at most ", kMaxTextBytes));
}

absl::Status CheckNoNulByte(std::string_view text, std::string_view what) {
  // memchr must not see the null data() of an empty view (UBSan).
  if (text.empty()) return absl::OkStatus();
  const void* nul = std::memchr(text.data(), '\0', text.size());
  if (nul == nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(Cat(what, ": not valid JSON: a NUL byte at offset ",
                                        static_cast<const char*>(nul) - text.data()));
}

absl::Status ParseError(std::string_view what, int code, size_t offset,
                        const std::string* handler_error) {
  std::string reason;
  if (code == rapidjson::kParseErrorTermination && handler_error != nullptr &&
      !handler_error->empty()) {
    reason = *handler_error;
  } else {
    reason = rapidjson::GetParseError_En(static_cast<rapidjson::ParseErrorCode>(code));
    if (!reason.empty() && reason.back() == '.') reason.pop_back();
  }
  return absl::InvalidArgumentError(Cat(what, ": not valid JSON: ", reason, " at offset ", offset));
}

}  // namespace teleclaude::mesh::json
