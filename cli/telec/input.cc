#include "cli/telec/input.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "cli/telec/json_out.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/base/utf8.h"
#include "common/cartridge/system_cartridges.h"
#include "common/json/json_text.h"

namespace teleclaude::mesh::telec {

absl::StatusOr<std::string> ParseJsonObjectOption(std::string_view option, std::string_view text) {
  std::string field = Cat("--", option);
  absl::StatusOr<std::string> canonical = json::CanonicalizeObject(text, field);
  if (canonical.ok()) return canonical;
  std::string message(ToStd(canonical.status().message()));
  // Point at the spot: the parser reports a byte offset into `text`.
  constexpr std::string_view kAt = " at offset ";
  if (size_t at = message.rfind(kAt); at != std::string::npos) {
    size_t offset = 0;
    if (ParseInt(std::string_view(message).substr(at + kAt.size()), &offset)) {
      if (offset >= text.size()) {
        CatTo(message, " (the end of the text)");
      } else {
        CatTo(message, ", near ", json::Quote(text.substr(offset, 12)));
      }
    }
  }
  return absl::InvalidArgumentError(message);
}

absl::StatusOr<std::string> ReadOptionText(std::string_view option, const std::string& value,
                                           int64_t max_bytes) {
  if (value != "-" && !value.starts_with("@")) return value;
  const bool from_stdin = value == "-";
  const std::string path = from_stdin ? std::string() : value.substr(1);
  const std::string what = from_stdin ? std::string("standard input") : path;
  std::ifstream file;
  if (!from_stdin) {
    file.open(path, std::ios::binary);
    if (!file) {
      return absl::InvalidArgumentError(
          Cat("--", option, ": cannot read ", path, ": ", std::strerror(errno)));
    }
  }
  std::istream& in = from_stdin ? std::cin : file;
  std::string text;
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (static_cast<int64_t>(text.size()) > max_bytes) {
      return absl::InvalidArgumentError(Cat("--", option, ": ", what, " is larger than ", max_bytes,
                                            " bytes (--max_message_bytes)"));
    }
  }
  if (in.bad()) {
    return absl::InvalidArgumentError(Cat("--", option, ": cannot read ", what));
  }
  return text;
}

absl::StatusOr<int64_t> ParseNotificationId(std::string_view text) {
  int64_t id = 0;
  if (!ParseInt(text, &id) || id <= 0) {
    return absl::InvalidArgumentError(
        Cat("notification id \"", text,
            "\" is not a positive number; use the ID column of 'telec notifications list'"));
  }
  return id;
}

absl::StatusOr<int32_t> ParseCountOption(std::string_view option, std::string_view text) {
  int32_t n = 0;
  if (!ParseInt(text, &n) || n < 0) {
    return absl::InvalidArgumentError(
        Cat("--", option, ": \"", text, "\" is not a number; give a whole number >= 0"));
  }
  return n;
}

absl::StatusOr<Page> ParsePage(const Invocation& invocation) {
  Page page;
  if (auto v = invocation.Get("limit")) {
    TM_ASSIGN_OR_RETURN(page.limit, ParseCountOption("limit", *v));
  }
  if (auto v = invocation.Get("offset")) {
    TM_ASSIGN_OR_RETURN(page.offset, ParseCountOption("offset", *v));
  }
  return page;
}

bool IsValidCartridgeName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto lower_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_digit(name[0])) return false;
  for (char c : name.substr(1)) {
    if (!lower_digit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

absl::Status ValidateCartridgeName(std::string_view name) {
  if (std::string reserved = ReservedCartridgeNameReason(name); !reserved.empty()) {
    return absl::InvalidArgumentError(Cat("--name: ", reserved));
  }
  if (IsValidCartridgeName(name)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      Cat("--name: \"", name,
          "\" is not a valid cartridge name; use 1-64 characters of a-z, 0-9, '_' and '-', "
          "starting with a letter or digit (e.g. \"my-filter\")"));
}

absl::StatusOr<std::string> ReadCartridgeFile(const std::string& path, int64_t max_bytes) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::InvalidArgumentError(Cat("cannot read ", path, ": ", std::strerror(errno),
                                          "; give the cartridge's source file"));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        Cat(path, " is not a regular file; give the cartridge's source file"));
  }
  if (st.st_size > max_bytes) {
    return absl::InvalidArgumentError(Cat(path, " is ", static_cast<int64_t>(st.st_size),
                                          " bytes; cartridges may have at most ", max_bytes,
                                          " (--max_cartridge_bytes)"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(Cat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string source = buffer.str();
  if (source.empty()) {
    return absl::InvalidArgumentError(Cat(path, " is empty; a cartridge needs source code"));
  }
  if (static_cast<int64_t>(source.size()) > max_bytes) {
    return absl::InvalidArgumentError(Cat(path, " is ", static_cast<int64_t>(source.size()),
                                          " bytes; cartridges may have at most ", max_bytes,
                                          " (--max_cartridge_bytes)"));
  }
  if (!IsValidUtf8(source)) {
    return absl::InvalidArgumentError(
        Cat(path, " is not UTF-8 text; cartridge sources must be UTF-8"));
  }
  return source;
}

std::string BuildPublishPayload(const PublishRequest& r) {
  std::string text;
  json::Writer out(&text);
  out.BeginObject();
  out.Key("name").String(r.name);
  out.Key("event_type").String(r.event_type);
  out.Key("version").String(r.version);
  out.Key("author").String(r.author);
  out.Key("code").String(absl::Base64Escape(r.source));
  out.Key("entry_point").String(r.entry_point);
  out.Key("dependencies").BeginArray();
  for (const std::string& d : r.dependencies) out.String(d);
  out.EndArray();
  out.Key("description").String(r.description);
  out.Key("runtime").String(r.runtime);
  out.EndObject();
  return text;
}

}  // namespace teleclaude::mesh::telec
