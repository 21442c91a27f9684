#include "services/ingress/transport_request.h"

#include <array>
#include <cstdint>
#include <cstdio>

#include "common/base/strings.h"
#include "common/base/utf8.h"
#include "common/json/json_text.h"
#include "common/json/writer.h"

namespace teleclaude::mesh {
namespace {

// The fields Python's `_parse_redis_message` decodes, in its order.
constexpr std::array<std::string_view, 9> kDecodedFields = {
    "type",      "session_id",   "command", "origin",       "channel_metadata",
    "initiator", "project_path", "title",   "launch_intent"};

const std::string* Field(const std::vector<std::pair<std::string, std::string>>& fields,
                         std::string_view name) {
  const std::string* found = nullptr;
  for (const auto& [key, value] : fields) {
    if (key == name) found = &value;  // the last one counts
  }
  return found;
}

// The code point of the well-formed sequence of `len` bytes at s[i].
uint32_t CodePoint(std::string_view s, size_t i, size_t len) {
  const unsigned char lead = static_cast<unsigned char>(s[i]);
  uint32_t cp = len == 1   ? lead
                : len == 2 ? (lead & 0x1F)
                : len == 3 ? (lead & 0x0F)
                           : (lead & 0x07);
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

// Bytes of the Python-whitespace character (str.isspace) at s[i], 0 if it is
// none. REQUIRES: s is valid UTF-8.
size_t WhitespaceAt(std::string_view s, size_t i) {
  const size_t len = Utf8SequenceLength(s, i);
  const uint32_t cp = CodePoint(s, i, len);
  const bool space = (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 ||
                     cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
                     cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
  return space ? len : 0;
}

// Python `str.strip()`.
std::string_view Strip(std::string_view s) {
  size_t begin = 0;
  while (begin < s.size()) {
    const size_t n = WhitespaceAt(s, begin);
    if (n == 0) break;
    begin += n;
  }
  // Trailing: find the last non-whitespace character's end.
  size_t end = begin;
  for (size_t i = begin; i < s.size();) {
    const size_t n = WhitespaceAt(s, i);
    if (n == 0) {
      i += Utf8SequenceLength(s, i);
      end = i;
    } else {
      i += n;
    }
  }
  return s.substr(begin, end - begin);
}

bool ShlexSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The first word of Python `shlex.split(s)` (posix, whitespace_split, no
// comments); nullopt when there is none; `*valid` false when shlex would
// raise (a quote not closed, a trailing escape) anywhere in `s`.
std::optional<std::string> ShlexFirstWord(std::string_view s, bool* valid) {
  *valid = true;
  std::optional<std::string> first;
  std::string token;
  bool in_token = false;  // a token has started (also an empty quoted one)
  char quote = 0;         // the open quote, 0 outside quotes
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
      } else {
        token.push_back(c);
      }
      continue;
    }
    if (c == '\\') {
      if (i + 1 == s.size()) {
        *valid = false;  // "No escaped character"
        return std::nullopt;
      }
      const char next = s[++i];
      // Inside double quotes only `"` and `\` are escaped.
      if (quote == '"' && next != '"' && next != '\\') token.push_back('\\');
      token.push_back(next);
      in_token = true;
      continue;
    }
    if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else {
        token.push_back(c);
      }
      continue;
    }
    if (ShlexSpace(c)) {
      if (in_token && !first.has_value()) first = token;
      in_token = false;
      token.clear();
      continue;
    }
    if (c == '\'' || c == '"') quote = c;
    if (c != '\'' && c != '"') token.push_back(c);
    in_token = true;
  }
  if (quote != 0) {
    *valid = false;  // "No closing quotation"
    return std::nullopt;
  }
  if (in_token && !first.has_value()) first = token;
  return first;
}

// The first word of Python `str.split()` (any whitespace).
std::optional<std::string> SplitFirstWord(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = WhitespaceAt(s, i);
    if (n == 0) break;
    i += n;
  }
  if (i == s.size()) return std::nullopt;
  const size_t begin = i;
  while (i < s.size() && WhitespaceAt(s, i) == 0) i += Utf8SequenceLength(s, i);
  return std::string(s.substr(begin, i - begin));
}

// `s` cut to at most `max` bytes at a character boundary. REQUIRES: valid UTF-8.
std::string_view CutUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = 0;
  while (end < s.size()) {
    const size_t n = Utf8SequenceLength(s, end);
    if (end + n > max) break;
    end += n;
  }
  return s.substr(0, end);
}

void StatsObject(json::Writer& w, std::string_view key, std::string_view first, double a,
                 std::string_view second, double b, double percent) {
  w.Key(key).BeginObject().Key(first).Double(a).Key(second).Double(b);
  w.Key("percent_used").Double(percent).EndObject();
}

}  // namespace

std::optional<std::string> CommandName(std::string_view command) {
  const std::string_view stripped = Strip(command);
  bool valid = true;
  std::optional<std::string> word = ShlexFirstWord(stripped, &valid);
  if (!valid) word = SplitFirstWord(stripped);
  if (!word.has_value()) return std::nullopt;
  const size_t slashes = word->find_first_not_of('/');
  return slashes == std::string::npos ? std::string() : word->substr(slashes);
}

TransportRequest DecodeTransportRequest(
    const std::vector<std::pair<std::string, std::string>>& fields) {
  TransportRequest out;
  for (std::string_view name : kDecodedFields) {
    const std::string* value = Field(fields, name);
    if (value == nullptr) continue;
    const size_t bad = FirstInvalidUtf8(*value);
    if (bad == value->size()) continue;
    char byte[8];
    std::snprintf(byte, sizeof(byte), "0x%02x", static_cast<unsigned char>((*value)[bad]));
    out.kind = TransportRequest::Kind::kError;
    out.error = Cat(name, ": not valid UTF-8 (byte ", byte, " at offset ", bad, ")");
    return out;
  }
  const std::string* type = Field(fields, "type");
  const std::string* command = Field(fields, "command");
  if ((type != nullptr && *type == "system") || command == nullptr || command->empty()) {
    return out;  // kNoAnswer
  }
  if (command->size() > kMaxCommandBytes) {
    out.kind = TransportRequest::Kind::kError;
    out.error = Cat("command: ", command->size(), " bytes, over the limit of ", kMaxCommandBytes);
    return out;
  }
  const std::optional<std::string> name = CommandName(*command);
  if (name.has_value() && *name == kGetComputerInfo) {
    out.kind = TransportRequest::Kind::kComputerInfo;
    return out;
  }
  out.kind = TransportRequest::Kind::kError;
  // Python formats the missing name as None. A name holding a line break is
  // echoed as Python would; json.dumps escapes it on the wire.
  out.error = Cat("Unknown redis command: ",
                  name.has_value() ? CutUtf8(*name, kMaxEchoedNameBytes) : "None");
  return out;
}

std::string ComputerInfoResponse(const ComputerInfo& info) {
  std::string canonical;
  json::Writer w(&canonical);
  w.BeginObject().Key("status").String("success").Key("data").BeginObject();
  w.Key("name").String(info.name).Key("status").String("online");
  w.Key("user").String(info.user).Key("host").String(info.host).Key("role").String(info.role);
  w.Key("is_local").Bool(true);
  w.Key("system_stats").BeginObject();
  StatsObject(w, "memory", "total_gb", info.memory_total_gb, "available_gb",
              info.memory_available_gb, info.memory_percent_used);
  StatsObject(w, "disk", "total_gb", info.disk_total_gb, "free_gb", info.disk_free_gb,
              info.disk_percent_used);
  w.Key("cpu").BeginObject().Key("percent_used").Double(info.cpu_percent_used).EndObject();
  w.EndObject();
  w.Key("tmux_binary").Null();
  w.EndObject().EndObject();
  return json::ToPythonJson(canonical);
}

std::string ErrorResponse(std::string_view error) {
  std::string canonical;
  json::Writer w(&canonical);
  w.BeginObject().Key("status").String("error").Key("error").String(error).EndObject();
  return json::ToPythonJson(canonical);
}

}  // namespace teleclaude::mesh
