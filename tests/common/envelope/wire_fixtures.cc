#include "tests/common/envelope/wire_fixtures.h"

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "rapidjson/document.h"

namespace teleclaude::mesh::testing {
namespace {

absl::StatusOr<std::vector<rapidjson::Document>> ReadLines(const std::string& file) {
  std::string path = WireDir() + "/" + file;
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError("wire fixtures missing: cannot open " + path +
                               " (the shared/wire directory must sit beside the source tree)");
  }
  std::vector<rapidjson::Document> docs;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    rapidjson::Document d;
    d.Parse<rapidjson::kParseFullPrecisionFlag>(line.data(), line.size());
    if (d.HasParseError() || !d.IsObject()) {
      return absl::DataLossError(path + ":" + std::to_string(n) + ": not a JSON object");
    }
    docs.push_back(std::move(d));
  }
  if (docs.empty()) return absl::DataLossError(path + ": no cases");
  return docs;
}

std::string Str(const rapidjson::Value& v) {
  return std::string(v.GetString(), v.GetStringLength());
}

}  // namespace

std::string WireDir() { return TM_WIRE_DIR; }

absl::StatusOr<std::vector<ValidCase>> LoadValidCases() {
  auto docs = ReadLines("envelopes.jsonl");
  if (!docs.ok()) return docs.status();
  std::vector<ValidCase> cases;
  for (const auto& d : *docs) {
    ValidCase c;
    c.name = Str(d["name"]);
    c.input_json = Str(d["input_json"]);
    c.model_dump_json = Str(d["model_dump_json"]);
    for (const auto& m : d["stream_dict"].GetObject()) {
      c.stream_dict.emplace_back(Str(m.name), Str(m.value));
    }
    c.stream_roundtrip_model_dump_json = Str(d["stream_roundtrip_model_dump_json"]);
    for (const auto& m : d["model_extra"].GetObject()) {
      c.model_extra_keys.push_back(Str(m.name));
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

absl::StatusOr<std::vector<InvalidCase>> LoadInvalidCases() {
  auto docs = ReadLines("invalid.jsonl");
  if (!docs.ok()) return docs.status();
  std::vector<InvalidCase> cases;
  for (const auto& d : *docs) {
    InvalidCase c;
    c.name = Str(d["name"]);
    c.payload = Str(d["payload"]);
    const auto& first = d["errors"][0];
    c.first_error_type = Str(first["type"]);
    std::string field;
    for (const auto& part : first["loc"].GetArray()) {
      if (!field.empty()) field += ".";
      field += part.IsString() ? Str(part) : std::to_string(part.GetInt());
    }
    c.first_error_field = field.empty() ? "(root)" : field;
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace teleclaude::mesh::testing
