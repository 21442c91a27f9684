#include "services/egress/python/runner_protocol.h"

#include <utility>

#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/base/utf8.h"
#include "common/envelope/stream_codec.h"
#include "common/json/reader.h"
#include "common/json/writer.h"

namespace teleclaude::mesh {
namespace {

std::string Frame(std::string_view body) {
  std::string out;
  out.reserve(kRunnerHeaderBytes + body.size());
  const uint32_t n = static_cast<uint32_t>(body.size());
  out.push_back(static_cast<char>((n >> 24) & 0xff));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.append(body);
  return out;
}

const char* JsonTypeName(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "boolean";
  if (v.IsObject()) return "object";
  if (v.IsArray()) return "array";
  if (v.IsString()) return "string";
  return "number";
}

absl::Status BadField(std::string_view field, std::string_view message) {
  return absl::InvalidArgumentError(Cat("response.", field, ": ", message));
}

}  // namespace

std::string CatalogSnapshotJson(const EventCatalog& catalog) {
  std::string out;
  json::Writer w(&out);
  w.BeginArray();
  for (const EventSchema* s : catalog.ListAll()) {
    w.BeginObject();
    w.Key("event_type").String(s->event_type);
    w.Key("description").String(s->description);
    w.Key("default_level").Int(static_cast<int>(s->default_level));
    w.Key("domain").String(s->domain);
    w.Key("default_visibility").String(VisibilityName(s->default_visibility));
    w.Key("idempotency_fields").StringList(s->idempotency_fields);
    w.Key("lifecycle");
    if (s->lifecycle.has_value()) {
      const NotificationLifecycle& l = *s->lifecycle;
      w.BeginObject();
      w.Key("creates").Bool(l.creates);
      w.Key("updates").Bool(l.updates);
      w.Key("resolves").Bool(l.resolves);
      w.Key("group_key").OptionalString(l.group_key);
      w.Key("meaningful_fields").StringList(l.meaningful_fields);
      w.Key("silent_fields").StringList(l.silent_fields);
      w.EndObject();
    } else {
      w.Null();
    }
    w.Key("actionable").Bool(s->actionable);
    w.EndObject();
  }
  w.EndArray();
  return out;
}

absl::StatusOr<std::string> EncodeRunnerRequest(std::string_view cartridge_name,
                                                const EventEnvelope& envelope,
                                                std::string_view catalog_snapshot_json) {
  std::string body;
  json::Writer w(&body);
  w.BeginObject();
  w.Key("cartridge_name").String(cartridge_name);
  w.Key("envelope").BeginObject();
  for (const auto& [key, value] : EncodeEnvelopeStream(envelope)) w.Key(key).String(value);
  w.EndObject();
  w.Key("catalog_snapshot").Canonical(catalog_snapshot_json);
  w.EndObject();
  if (body.size() > kRunnerMaxFrameBytes) {
    return absl::ResourceExhaustedError(Cat(
        "request: ", body.size(), " bytes; the runner's frame limit is ", kRunnerMaxFrameBytes));
  }
  return Frame(body);
}

std::string EncodeRunnerPing() {
  std::string body;
  json::Writer w(&body);
  w.BeginObject();
  w.Key("cartridge_name").String(kRunnerPingName);
  w.Key("envelope").BeginObject().EndObject();
  w.Key("catalog_snapshot").BeginArray().EndArray();
  w.EndObject();
  return Frame(body);
}

absl::StatusOr<uint32_t> DecodeRunnerFrameHeader(std::string_view header) {
  if (header.size() != kRunnerHeaderBytes) {
    return absl::InvalidArgumentError(
        Cat("response frame header: ", header.size(), " bytes; expected 4"));
  }
  const auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(header[i])); };
  const uint32_t n = (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
  if (n > kRunnerMaxFrameBytes) {
    return absl::InvalidArgumentError(Cat("response frame of ", n, " bytes exceeds the runner's ",
                                          kRunnerMaxFrameBytes, "-byte limit"));
  }
  return n;
}

absl::StatusOr<RunnerResponse> DecodeRunnerResponse(std::string_view body) {
  if (body.size() > kRunnerMaxFrameBytes) {
    return absl::InvalidArgumentError(Cat("response frame of ", body.size(),
                                          " bytes exceeds the runner's ", kRunnerMaxFrameBytes,
                                          "-byte limit"));
  }
  rapidjson::Document doc;
  TM_RETURN_IF_ERROR(json::ParseDocument<rapidjson::kParseNanAndInfFlag>(body, "response", &doc));
  if (!doc.IsObject()) {
    return absl::InvalidArgumentError(
        Cat("response: expected a JSON object, got ", JsonTypeName(doc)));
  }
  RunnerResponse out;
  // Keys as protocol.py's response_from_dict reads them (.get: a missing key
  // is null / 0.0; unknown keys are ignored). A repeated key: the last wins,
  // as in json.loads.
  const rapidjson::Value* envelope = nullptr;
  const rapidjson::Value* error = nullptr;
  const rapidjson::Value* duration = nullptr;
  const rapidjson::Value& root = doc;
  for (auto it = root.MemberBegin(), end = root.MemberEnd(); !(it == end); ++it) {
    std::string_view key(it->name.GetString(), it->name.GetStringLength());
    if (key == "envelope") envelope = &it->value;
    if (key == "error") error = &it->value;
    if (key == "duration_ms") duration = &it->value;
  }
  if (error != nullptr && !error->IsNull()) {
    if (!error->IsString()) {
      return BadField("error", Cat("expected a string or null, got ", JsonTypeName(*error)));
    }
    std::string_view text(error->GetString(), error->GetStringLength());
    if (!IsValidUtf8(text)) return BadField("error", "not valid UTF-8");
    out.error = std::string(text);
  }
  if (duration != nullptr && !duration->IsNull()) {
    if (!duration->IsNumber()) {
      return BadField("duration_ms", Cat("expected a number, got ", JsonTypeName(*duration)));
    }
    out.duration_ms = duration->GetDouble();
  }
  if (envelope != nullptr && !envelope->IsNull()) {
    if (!envelope->IsObject()) {
      return BadField("envelope", Cat("expected an object (to_stream_dict) or null, got ",
                                      JsonTypeName(*envelope)));
    }
    StreamFields fields;
    for (auto it = envelope->MemberBegin(), end = envelope->MemberEnd(); !(it == end); ++it) {
      const rapidjson::Value::Member& m = *it;
      std::string key(m.name.GetString(), m.name.GetStringLength());
      if (!IsValidUtf8(key)) return BadField("envelope", "a key is not valid UTF-8");
      if (!m.value.IsString()) {
        return BadField(Cat("envelope.", key),
                        Cat("expected a string (to_stream_dict), got ", JsonTypeName(m.value)));
      }
      std::string value(m.value.GetString(), m.value.GetStringLength());
      if (!IsValidUtf8(value)) return BadField(Cat("envelope.", key), "not valid UTF-8");
      fields.emplace_back(std::move(key), std::move(value));
    }
    absl::StatusOr<EventEnvelope> decoded = DecodeEnvelopeStream(std::move(fields));
    if (!decoded.ok()) {
      return absl::InvalidArgumentError(Cat("response.envelope.", decoded.status().message()));
    }
    if (!out.error.has_value()) out.envelope = std::move(*decoded);
  }
  return out;
}

}  // namespace teleclaude::mesh
