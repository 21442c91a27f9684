#include "common/mesh/heartbeat.h"

#include "common/base/strings.h"
#include "common/json/json_text.h"
#include "common/json/writer.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace teleclaude::mesh {

namespace {
constexpr std::string_view kKeyPrefix = "computer:";
constexpr std::string_view kKeySuffix = ":heartbeat";
}  // namespace

std::string EncodeHeartbeat(const Heartbeat& heartbeat) {
  std::string canonical;
  json::Writer w(&canonical);
  w.BeginObject();
  w.Key("computer_name").String(heartbeat.computer_name);
  w.Key("last_seen").String(heartbeat.last_seen);
  if (heartbeat.cluster.has_value() && !heartbeat.cluster->empty()) {
    w.Key("cluster").String(*heartbeat.cluster);
  }
  w.EndObject();
  // TeleClaude writes heartbeats with json.dumps defaults.
  return json::ToPythonJson(canonical);
}

absl::StatusOr<Heartbeat> DecodeHeartbeat(std::string_view text) {
  rapidjson::Document doc;
  // ValidateEncoding: JSON text is UTF-8 (Python peers could not read
  // anything else), and only valid UTF-8 survives EncodeHeartbeat.
  doc.Parse<rapidjson::kParseStopWhenDoneFlag | rapidjson::kParseIterativeFlag |
            rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(
        Cat("heartbeat: not valid JSON: ", rapidjson::GetParseError_En(doc.GetParseError()),
            " at offset ", doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) return absl::InvalidArgumentError("heartbeat: expected a JSON object");
  Heartbeat hb;
  // HasMember/operator[] rather than member iterators: comparing RapidJSON
  // iterators is ambiguous under C++20's reversed operators.
  if (!doc.HasMember("computer_name") || !doc["computer_name"].IsString() ||
      doc["computer_name"].GetStringLength() == 0) {
    return absl::InvalidArgumentError("heartbeat: computer_name missing or not a non-empty string");
  }
  hb.computer_name.assign(doc["computer_name"].GetString(), doc["computer_name"].GetStringLength());
  if (!doc.HasMember("last_seen") || !doc["last_seen"].IsString()) {
    return absl::InvalidArgumentError("heartbeat: last_seen missing or not a string");
  }
  hb.last_seen.assign(doc["last_seen"].GetString(), doc["last_seen"].GetStringLength());
  if (doc.HasMember("cluster") && !doc["cluster"].IsNull()) {
    const rapidjson::Value& cluster = doc["cluster"];
    if (!cluster.IsString())
      return absl::InvalidArgumentError("heartbeat: cluster is not a string");
    if (cluster.GetStringLength() > 0) {
      hb.cluster.emplace(cluster.GetString(), cluster.GetStringLength());
    }
  }
  return hb;
}

std::string HeartbeatKey(std::string_view computer_name) {
  return Cat(kKeyPrefix, computer_name, kKeySuffix);
}

std::optional<std::string> ComputerNameFromHeartbeatKey(std::string_view key) {
  if (!key.starts_with(kKeyPrefix) || !key.ends_with(kKeySuffix)) return std::nullopt;
  if (key.size() < kKeyPrefix.size() + kKeySuffix.size()) return std::nullopt;
  return std::string(
      key.substr(kKeyPrefix.size(), key.size() - kKeyPrefix.size() - kKeySuffix.size()));
}

}  // namespace teleclaude::mesh
