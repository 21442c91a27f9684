#include "services/installer/cartridge_payload.h"

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/base/utf8.h"
#include "common/cartridge/system_cartridges.h"
#include "common/json/json_text.h"
#include "common/json/reader.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "services/installer/sha256.h"

namespace teleclaude::mesh {
namespace {

constexpr size_t kMaxVersionChars = 128;
constexpr size_t kMaxAuthorChars = 256;
constexpr size_t kMaxDescriptionChars = 4096;
constexpr size_t kMaxDependencies = 64;
// Longer than any well-formed author_key (44) or author_signature (91).
constexpr size_t kMaxSignatureMemberChars = 256;

absl::Status FieldError(std::string_view field, std::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(ToAbsl(field), ": ", ToAbsl(message)));
}

std::string_view TypeName(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "boolean";
    case rapidjson::kObjectType:
      return "object";
    case rapidjson::kArrayType:
      return "array";
    case rapidjson::kStringType:
      return "string";
    case rapidjson::kNumberType:
      return "number";
  }
  return "value";
}

// For messages: the value quoted and cut to a readable length.
std::string Show(std::string_view s) {
  constexpr size_t kMax = 80;
  std::string cut(s.substr(0, kMax));
  if (!IsValidUtf8(cut)) cut = absl::CHexEscape(cut);
  std::string out = json::Quote(cut);
  if (s.size() > kMax) out += "...";
  return out;
}

// Reads member `field` as a string. Missing: `required` -> error, else "".
absl::StatusOr<std::string> GetString(const rapidjson::Value& obj, const char* field, bool required,
                                      bool non_empty) {
  auto it = obj.FindMember(field);
  if (it == obj.MemberEnd() || it->value.IsNull()) {
    if (required) {
      return FieldError(field, "field required; the publisher must set it");
    }
    return std::string();
  }
  if (!it->value.IsString()) {
    return FieldError(field, absl::StrCat("expected a string, got ", ToAbsl(TypeName(it->value))));
  }
  std::string value(it->value.GetString(), it->value.GetStringLength());
  if (non_empty && value.empty()) {
    return FieldError(field, "must not be empty; the publisher must set it");
  }
  return value;
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

// A Python module path: identifiers joined by '.', at most 128 characters.
bool IsModulePath(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    if (!IsIdentifier(s.substr(start, dot == std::string_view::npos ? dot : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// Whether a line of `source` starts a Python function definition
// ("def " / "async def " at the start of a line): never valid Lua.
bool DefinesPythonFunction(std::string_view source) {
  for (size_t start = 0; start < source.size();) {
    const size_t end = std::min(source.find('\n', start), source.size());
    const std::string_view line = source.substr(start, end - start);
    if (line.starts_with("def ") || line.starts_with("async def ")) return true;
    start = end + 1;
  }
  return false;
}

bool IsStrictBase64(std::string_view s) {
  if (s.size() % 4 != 0) return false;
  size_t pad = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '=') {
      ++pad;
      if (i < s.size() - 2) return false;
      continue;
    }
    if (pad > 0) return false;
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/';
    if (!ok) return false;
  }
  return pad <= 2;
}

}  // namespace

bool IsValidCartridgeName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto lower_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_digit(name[0])) return false;
  for (char c : name) {
    if (!lower_digit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

absl::StatusOr<CartridgeCandidate> ParseCartridgePayload(std::string_view payload_json,
                                                         int64_t max_cartridge_bytes,
                                                         std::string_view source_computer) {
  rapidjson::Document doc;
  // Bounded and iterative (a payload nested 200,000 deep once crashed the
  // installer). No kParseFullPrecisionFlag: no number of the payload is used,
  // and RapidJSON 1.1.0's full-precision path calls __builtin_clzll(0)
  // (undefined) on zero mantissas with large exponents such as -0e41 (found
  // by fuzz_cartridge_payload).
  TM_RETURN_IF_ERROR(
      json::ParseDocument<rapidjson::kParseNanAndInfFlag>(payload_json, "payload", &doc));
  if (!doc.IsObject()) {
    return FieldError("payload",
                      absl::StrCat("expected a JSON object, got ", ToAbsl(TypeName(doc))));
  }

  CartridgeCandidate c;
  c.source_computer = std::string(source_computer);

  // Declared order of DESIGN §5, so the first problem reported is stable.
  auto name = GetString(doc, "name", /*required=*/true, /*non_empty=*/true);
  if (!name.ok()) return name.status();
  if (!IsValidCartridgeName(*name)) {
    return FieldError("name", absl::StrCat(Show(*name),
                                           " is not a valid cartridge name; use 1-64 characters "
                                           "of a-z, 0-9, '_' and '-', starting with a-z or 0-9 (",
                                           ToAbsl(kCartridgeNamePattern), ")"));
  }
  if (std::string reserved = ReservedCartridgeNameReason(*name); !reserved.empty()) {
    return FieldError("name", reserved);
  }
  c.name = *std::move(name);

  auto event_type = GetString(doc, "event_type", false, false);
  if (!event_type.ok()) return event_type.status();
  c.event_type = *std::move(event_type);

  auto version = GetString(doc, "version", true, true);
  if (!version.ok()) return version.status();
  if (version->size() > kMaxVersionChars) {
    return FieldError("version", absl::StrCat("longer than ", kMaxVersionChars, " characters"));
  }
  c.version = *std::move(version);

  auto author = GetString(doc, "author", true, true);
  if (!author.ok()) return author.status();
  if (author->size() > kMaxAuthorChars) {
    return FieldError("author", absl::StrCat("longer than ", kMaxAuthorChars, " characters"));
  }
  c.author = *std::move(author);

  auto code = GetString(doc, "code", true, true);
  if (!code.ok()) return code.status();
  // Decoded size is at most 3/4 of the text: refuse clearly oversize code
  // before decoding it.
  const int64_t max_encoded = (max_cartridge_bytes + 2) / 3 * 4;
  if (static_cast<int64_t>(code->size()) > max_encoded) {
    return FieldError("code",
                      absl::StrCat("the source is larger than the limit of ", max_cartridge_bytes,
                                   " bytes (--max_cartridge_bytes); publish a smaller "
                                   "cartridge or raise the limit"));
  }
  if (!IsStrictBase64(*code)) {
    return FieldError("code",
                      "not valid base64 (standard alphabet A-Z a-z 0-9 + /, '=' padding, no "
                      "whitespace); encode the UTF-8 source with base64");
  }
  std::string source;
  if (!absl::Base64Unescape(*code, &source)) {
    return FieldError("code", "not valid base64; encode the UTF-8 source with base64");
  }
  if (static_cast<int64_t>(source.size()) > max_cartridge_bytes) {
    return FieldError("code", absl::StrCat("the source is ", source.size(),
                                           " bytes, larger than the limit of ", max_cartridge_bytes,
                                           " bytes (--max_cartridge_bytes); publish a smaller "
                                           "cartridge or raise the limit"));
  }
  if (source.empty()) {
    return FieldError("code", "decodes to an empty source; publish the cartridge's code");
  }
  if (!IsValidUtf8(source)) {
    return FieldError("code",
                      "does not decode to valid UTF-8 text; cartridge source must be "
                      "UTF-8");
  }
  c.sha256 = Sha256Hex(source);
  c.source = std::move(source);

  auto entry_point = GetString(doc, "entry_point", false, false);
  if (!entry_point.ok()) return entry_point.status();
  TM_RETURN_IF_ERROR(CheckEntryPoint(*entry_point));
  c.entry_point = *std::move(entry_point);

  // HasMember/operator[] rather than comparing member iterators: comparing
  // non-const RapidJSON iterators is ambiguous under C++20's reversed operators.
  if (doc.HasMember("dependencies") && !doc["dependencies"].IsNull()) {
    const rapidjson::Value& deps = doc["dependencies"];
    if (!deps.IsArray()) {
      return FieldError("dependencies",
                        absl::StrCat("expected a list of strings, got ", ToAbsl(TypeName(deps))));
    }
    if (deps.Size() > kMaxDependencies) {
      return FieldError("dependencies", absl::StrCat("more than ", kMaxDependencies, " entries"));
    }
    for (rapidjson::SizeType i = 0; i < deps.Size(); ++i) {
      const rapidjson::Value& d = deps[i];
      if (!d.IsString()) {
        return FieldError(absl::StrCat("dependencies[", i, "]"),
                          absl::StrCat("expected a string, got ", ToAbsl(TypeName(d))));
      }
      c.dependencies.emplace_back(d.GetString(), d.GetStringLength());
    }
  }

  auto description = GetString(doc, "description", false, false);
  if (!description.ok()) return description.status();
  if (description->size() > kMaxDescriptionChars) {
    return FieldError("description",
                      absl::StrCat("longer than ", kMaxDescriptionChars, " characters"));
  }
  c.description = *std::move(description);

  auto runtime = GetString(doc, "runtime", false, false);
  if (!runtime.ok()) return runtime.status();
  if (doc.HasMember("runtime") && !doc["runtime"].IsNull() && runtime->empty()) {
    return FieldError("runtime", "must not be empty; omit it to infer the runtime, or name one");
  }
  TM_ASSIGN_OR_RETURN(c.runtime, ResolveRuntime(*runtime, c.entry_point, c.source));

  // The author's signature (doc/security.md §4.5): strings or absent.
  std::optional<std::string> signature_members[2];
  const char* const signature_fields[2] = {"author_key", "author_signature"};
  for (int i = 0; i < 2; ++i) {
    const char* field = signature_fields[i];
    if (!doc.HasMember(field) || doc[field].IsNull()) continue;
    auto value = GetString(doc, field, false, false);
    if (!value.ok()) return value.status();
    if (value->size() > kMaxSignatureMemberChars) {
      return FieldError(field, absl::StrCat("longer than ", kMaxSignatureMemberChars,
                                            " characters; it is not a signature block"));
    }
    signature_members[i] = *std::move(value);
  }
  auto view = [](const std::optional<std::string>& s) {
    return s.has_value() ? std::optional<std::string_view>(*s) : std::nullopt;
  };
  TM_ASSIGN_OR_RETURN(c.signature, DecodeCartridgeSignature(view(signature_members[0]),
                                                            view(signature_members[1])));
  return c;
}

CartridgeStatement StatementOf(const CartridgeCandidate& c) {
  CartridgeStatement s;
  s.author = c.author;
  s.name = c.name;
  s.version = c.version;
  s.runtime = c.runtime;
  s.entry_point = c.entry_point;
  s.event_type = c.event_type;
  s.description = c.description;
  s.dependencies = c.dependencies;
  s.code_sha256 = c.sha256;
  return s;
}

absl::Status CheckEntryPoint(std::string_view entry_point) {
  if (entry_point.empty() || IsIdentifier(entry_point)) return absl::OkStatus();
  const size_t colon = entry_point.find(':');
  if (colon != std::string_view::npos && IsModulePath(entry_point.substr(0, colon)) &&
      IsIdentifier(entry_point.substr(colon + 1))) {
    return absl::OkStatus();
  }
  return FieldError("entry_point",
                    absl::StrCat(Show(entry_point),
                                 " is neither a function name nor module:function; use letters, "
                                 "digits and '_' (at most 64, not starting with a digit), e.g. "
                                 "process or tagger:process"));
}

absl::StatusOr<std::string> ResolveRuntime(std::string_view runtime, std::string_view entry_point,
                                           std::string_view source) {
  if (!runtime.empty()) {
    if (FindCartridgeRuntime(runtime) == nullptr) {
      return FieldError("runtime", absl::StrCat(Show(runtime),
                                                " is not a runtime this computer runs; supported: ",
                                                SupportedRuntimeNames()));
    }
    return std::string(runtime);
  }
  if (entry_point.find(':') != std::string_view::npos || DefinesPythonFunction(source)) {
    return std::string(kPythonRuntime);
  }
  return FieldError("runtime",
                    absl::StrCat("field required: the runtime cannot be inferred (entry_point is "
                                 "not module:function and the code defines no Python function); "
                                 "set runtime to one of ",
                                 SupportedRuntimeNames()));
}

std::string PayloadErrorField(const absl::Status& status) {
  std::string_view message = ToStd(status.message());
  size_t colon = message.find(": ");
  if (colon == std::string_view::npos || colon == 0 ||
      message.substr(0, colon).find(' ') != std::string_view::npos) {
    return "payload";
  }
  return std::string(message.substr(0, colon));
}

}  // namespace teleclaude::mesh
