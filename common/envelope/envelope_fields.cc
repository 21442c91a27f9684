#include "common/envelope/envelope_fields.h"

#include "common/base/strings.h"
#include "common/json/json_text.h"

namespace teleclaude::mesh::envelope_internal {

using json::ForEachMember;
using json::KindOfCanonical;

absl::Status FieldError(std::string_view field, std::string_view message) {
  return absl::InvalidArgumentError(Cat(field, ": ", message));
}

std::string Shorten(std::string_view text) {
  constexpr size_t kMax = 60;
  if (text.size() <= kMax) return std::string(text);
  return Cat(text.substr(0, kMax), "...");
}

absl::Status CheckStringMap(std::string_view canonical, std::string_view path) {
  absl::Status status;
  ForEachMember(canonical, [&](const std::string& key, std::string_view v) {
    if (!status.ok() || (!v.empty() && v.front() == '"')) return;
    status = FieldError(Cat(path, ".", key), Cat("expected a string, got ", KindOfCanonical(v)));
  });
  return status;
}

absl::StatusOr<std::string> NormalizeActions(std::string_view canonical) {
  std::string out;
  out.reserve(canonical.size() + 32);
  out.push_back('{');
  absl::Status status;
  bool first = true;
  ForEachMember(canonical, [&](const std::string& name, std::string_view v) {
    if (!status.ok()) return;
    std::string path = Cat("actions.", name);
    if (v.empty() || v.front() != '{') {
      status = FieldError(path, Cat("expected a JSON object, got ", KindOfCanonical(v)));
      return;
    }
    std::string_view description, produces, shape;
    ForEachMember(v, [&](const std::string& key, std::string_view value) {
      if (key == "description") description = value;
      if (key == "produces") produces = value;
      if (key == "outcome_shape") shape = value;
    });
    for (auto [field, value] :
         {std::pair<std::string_view, std::string_view>{"description", description},
          {"produces", produces}}) {
      if (value.empty()) {
        status = FieldError(Cat(path, ".", field), "field required");
        return;
      }
      if (value.front() != '"') {
        status = FieldError(Cat(path, ".", field),
                            Cat("expected a string, got ", KindOfCanonical(value)));
        return;
      }
    }
    if (shape.empty()) shape = "null";
    if (shape != "null") {
      if (shape.front() != '{') {
        status = FieldError(Cat(path, ".outcome_shape"),
                            Cat("expected a JSON object or null, got ", KindOfCanonical(shape)));
        return;
      }
      status = CheckStringMap(shape, Cat(path, ".outcome_shape"));
      if (!status.ok()) return;
    }
    if (!first) out.push_back(',');
    first = false;
    json::AppendQuoted(name, &out);
    out.append(":{\"description\":");
    out.append(description);
    out.append(",\"produces\":");
    out.append(produces);
    out.append(",\"outcome_shape\":");
    out.append(shape);
    out.push_back('}');
  });
  if (!status.ok()) return status;
  out.push_back('}');
  return out;
}

}  // namespace teleclaude::mesh::envelope_internal
