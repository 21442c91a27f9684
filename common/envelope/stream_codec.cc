// Local stream entry codec: see stream_codec.h and doc/wire.md
// ("Stream entry").
#include "common/envelope/stream_codec.h"

#include <array>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/base/utf8.h"
#include "common/envelope/envelope_fields.h"
#include "common/envelope/timestamp_codec.h"
#include "common/json/json_text.h"

namespace teleclaude::mesh {
namespace {

using envelope_internal::FieldError;
using envelope_internal::Shorten;
using json::NonFinite;

using envelope_internal::kDeclaredFieldNames;

std::string PythonJsonText(std::string_view canonical) {
  std::string out;
  json::AppendPythonJson(canonical, &out);
  return out;
}

// Python's int(str): surrounding whitespace, an optional sign, digits with
// single underscores between them. Must fit in 64 bits here.
bool PythonInt(std::string_view text, int64_t* out) {
  std::string_view t =
      ToStd(absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size())));
  bool negative = false;
  if (!t.empty() && (t.front() == '+' || t.front() == '-')) {
    negative = t.front() == '-';
    t.remove_prefix(1);
  }
  if (t.empty() || t.front() == '_' || t.back() == '_') return false;
  std::string digits;
  digits.reserve(t.size() + 1);
  if (negative) digits.push_back('-');
  char prev = 0;
  for (char c : t) {
    if (c == '_') {
      if (prev == '_') return false;
    } else if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else {
      return false;
    }
    prev = c;
  }
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *out);
  return ec == std::errc() && p == digits.data() + digits.size();
}

// The fields the decoder reads: the declared ones, then `_extra`.
using envelope_internal::DeclaredFieldIndex;
using enum envelope_internal::DeclaredField;
constexpr int kExtra = envelope_internal::kDeclaredFieldCount;
constexpr int kFieldCount = kExtra + 1;

int FieldIndex(std::string_view name) {
  return name == "_extra" ? kExtra : DeclaredFieldIndex(name);
}

// The last value of each field of an entry (nullptr when absent), found in
// one pass. With kMove the text values are moved out of the entry.
template <bool kMove>
class FieldMap {
 public:
  using Value = std::conditional_t<kMove, std::string, const std::string>;
  using Fields = std::conditional_t<kMove, StreamFields, const StreamFields>;

  explicit FieldMap(Fields& fields) {
    for (auto& [name, value] : fields) {
      const int index = FieldIndex(name);
      if (index >= 0) values_[index] = &value;
    }
  }

  Value* Get(int field) const { return values_[field]; }

  // The value as a string of its own (moved or copied).
  static std::string Take(Value& value) {
    if constexpr (kMove) {
      return std::move(value);
    } else {
      return value;
    }
  }

 private:
  std::array<Value*, kFieldCount> values_{};
};

absl::Status Utf8(std::string_view field, const std::string& value) {
  if (IsValidUtf8(value)) return absl::OkStatus();
  return FieldError(field, "not valid UTF-8");
}

template <bool kMove>
absl::Status RequiredText(const FieldMap<kMove>& m, int field, std::string* out) {
  auto* v = m.Get(field);
  if (v == nullptr) return FieldError(kDeclaredFieldNames[field], "field required");
  TM_RETURN_IF_ERROR(Utf8(kDeclaredFieldNames[field], *v));
  *out = FieldMap<kMove>::Take(*v);
  return absl::OkStatus();
}

template <bool kMove>
absl::Status OptionalText(const FieldMap<kMove>& m, int field, std::string* out) {
  auto* v = m.Get(field);
  if (v == nullptr) return absl::OkStatus();
  TM_RETURN_IF_ERROR(Utf8(kDeclaredFieldNames[field], *v));
  *out = FieldMap<kMove>::Take(*v);
  return absl::OkStatus();
}

// "" -> null, as `d.get(field) or None`.
template <bool kMove>
absl::Status OrNone(const FieldMap<kMove>& m, int field, std::optional<std::string>* out) {
  auto* v = m.Get(field);
  if (v == nullptr || v->empty()) return absl::OkStatus();
  TM_RETURN_IF_ERROR(Utf8(kDeclaredFieldNames[field], *v));
  *out = FieldMap<kMove>::Take(*v);
  return absl::OkStatus();
}

absl::StatusOr<std::string> CanonicalJson(std::string_view field, const std::string& text) {
  absl::StatusOr<std::string> c = json::Canonicalize(text, NonFinite::kKeep);
  if (!c.ok()) return FieldError(field, ToStd(c.status().message()));
  return c;
}

template <bool kMove>
absl::StatusOr<EventEnvelope> Decode(const FieldMap<kMove>& m) {
  EventEnvelope e;
  TM_RETURN_IF_ERROR(RequiredText(m, kEvent, &e.event));

  if (const std::string* v = m.Get(kVersion); v != nullptr) {
    int64_t version = 0;
    if (!PythonInt(*v, &version)) {
      return FieldError("version",
                        Cat("expected an integer (64 bits), got ", Shorten(json::Quote(*v))));
    }
    e.version = version;
  }

  TM_RETURN_IF_ERROR(RequiredText(m, kSource, &e.source));

  {
    const std::string* ts = m.Get(kTimestamp);
    if (ts == nullptr) return FieldError("timestamp", "field required");
    TM_RETURN_IF_ERROR(Utf8("timestamp", *ts));
    absl::StatusOr<Timestamp> parsed = ParseTimestampIsoformat(*ts);
    if (!parsed.ok()) {
      return FieldError("timestamp",
                        Cat("not a valid ISO 8601 date-time (", ToStd(parsed.status().message()),
                            "), got ", Shorten(json::Quote(*ts))));
    }
    e.timestamp = *parsed;
  }

  TM_RETURN_IF_ERROR(OrNone(m, kIdempotencyKey, &e.idempotency_key));

  {
    const std::string* v = m.Get(kLevel);
    if (v == nullptr) return FieldError("level", "field required");
    int64_t level = -1;
    if (!PythonInt(*v, &level) || level < 0 || level > 3) {
      return FieldError("level", Cat("must be an integer 0-3 (INFRASTRUCTURE..BUSINESS), got ",
                                     Shorten(json::Quote(*v))));
    }
    e.level = static_cast<Level>(level);
  }

  TM_RETURN_IF_ERROR(OptionalText(m, kDomain, &e.domain));
  TM_RETURN_IF_ERROR(OrNone(m, kEntity, &e.entity));
  TM_RETURN_IF_ERROR(OptionalText(m, kDescription, &e.description));

  if (const std::string* v = m.Get(kVisibility); v != nullptr) {
    std::optional<Visibility> vis = ParseVisibility(*v);
    if (!vis.has_value()) {
      return FieldError("visibility", Cat("must be \"local\", \"cluster\" or "
                                          "\"public\", got ",
                                          Shorten(json::Quote(*v))));
    }
    e.visibility = *vis;
  }

  if (const std::string* v = m.Get(kPayload); v != nullptr && !v->empty()) {
    TM_ASSIGN_OR_RETURN(std::string payload, CanonicalJson("payload", *v));
    if (payload.front() != '{') {
      return FieldError("payload",
                        Cat("expected a JSON object, got ", json::KindOfCanonical(payload)));
    }
    e.payload_json = std::move(payload);
  }

  if (const std::string* v = m.Get(kActions); v != nullptr && !v->empty()) {
    TM_ASSIGN_OR_RETURN(std::string actions, CanonicalJson("actions", *v));
    if (actions.front() != '{') {
      return FieldError("actions",
                        Cat("expected a JSON object, got ", json::KindOfCanonical(actions)));
    }
    TM_ASSIGN_OR_RETURN(e.actions_json, envelope_internal::NormalizeActions(actions));
  }

  TM_RETURN_IF_ERROR(OrNone(m, kTerminalWhen, &e.terminal_when));

  if (const std::string* v = m.Get(kResolutionShape); v != nullptr && !v->empty()) {
    TM_ASSIGN_OR_RETURN(std::string shape, CanonicalJson("resolution_shape", *v));
    if (shape.front() == '{') {
      TM_RETURN_IF_ERROR(envelope_internal::CheckStringMap(shape, "resolution_shape"));
      e.resolution_shape_json = std::move(shape);
    } else if (shape != "null") {
      return FieldError("resolution_shape",
                        Cat("expected a JSON object or null, got ", json::KindOfCanonical(shape)));
    }
  }

  if (const std::string* v = m.Get(kExtra); v != nullptr && !v->empty()) {
    TM_ASSIGN_OR_RETURN(std::string extra, CanonicalJson("_extra", *v));
    if (extra.front() != '{') {
      return FieldError("_extra",
                        Cat("expected a JSON object, got ", json::KindOfCanonical(extra)));
    }
    absl::Status status;
    json::ForEachMember(extra, [&](const std::string& key, std::string_view val) {
      if (!status.ok()) return;
      if (DeclaredFieldIndex(key) >= 0) {
        status = FieldError("_extra", Cat("key \"", key, "\" repeats a declared envelope field"));
        return;
      }
      e.extras.emplace_back(key, std::string(val));
    });
    TM_RETURN_IF_ERROR(status);
  }
  return e;
}

}  // namespace

StreamFields EncodeEnvelopeStream(const EventEnvelope& e) {
  StreamFields f;
  f.reserve(15);
  f.emplace_back("event", e.event);
  f.emplace_back("version", std::to_string(e.version));
  f.emplace_back("source", e.source);
  f.emplace_back("timestamp", FormatTimestampStream(e.timestamp));
  f.emplace_back("idempotency_key", e.idempotency_key.value_or(""));
  f.emplace_back("level", std::to_string(static_cast<int>(e.level)));
  f.emplace_back("domain", e.domain);
  f.emplace_back("entity", e.entity.value_or(""));
  f.emplace_back("description", e.description);
  f.emplace_back("visibility", std::string(VisibilityName(e.visibility)));
  f.emplace_back("payload",
                 e.payload_json.empty() ? std::string("{}") : PythonJsonText(e.payload_json));
  // Python writes "" for a missing or empty (falsy) dict.
  auto falsy = [](const std::optional<std::string>& j) {
    return !j.has_value() || j->empty() || *j == "{}" || *j == "null";
  };
  f.emplace_back("actions", falsy(e.actions_json) ? "" : PythonJsonText(*e.actions_json));
  f.emplace_back("terminal_when", e.terminal_when.value_or(""));
  f.emplace_back("resolution_shape",
                 falsy(e.resolution_shape_json) ? "" : PythonJsonText(*e.resolution_shape_json));
  if (!e.extras.empty()) {
    std::string extra = "{";
    bool first = true;
    for (const auto& [key, value] : e.extras) {
      if (!first) extra.append(", ");
      first = false;
      json::AppendPythonQuoted(key, &extra);
      extra.append(": ");
      if (value.empty()) {
        extra.append("null");
      } else {
        json::AppendPythonJson(value, &extra);
      }
    }
    extra.push_back('}');
    f.emplace_back("_extra", std::move(extra));
  }
  return f;
}

absl::StatusOr<EventEnvelope> DecodeEnvelopeStream(const StreamFields& fields) {
  return Decode(FieldMap<false>(fields));
}

absl::StatusOr<EventEnvelope> DecodeEnvelopeStream(StreamFields&& fields) {
  return Decode(FieldMap<true>(fields));
}

}  // namespace teleclaude::mesh
