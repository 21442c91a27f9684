#include "common/mesh/heartbeat.h"

#include "common/base/show_bytes.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/config/config.h"
#include "common/envelope/timestamp_codec.h"
#include "common/identity/transcript.h"
#include "common/json/json_text.h"
#include "common/json/reader.h"
#include "common/json/writer.h"
#include "common/mesh/peer_name.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace teleclaude::mesh {

namespace {

constexpr std::string_view kKeyPrefix = "computer:";
constexpr std::string_view kKeySuffix = ":heartbeat";

// The declared fields, as members of the object `w` has open.
void WriteDeclared(const Heartbeat& heartbeat, json::Writer& w) {
  w.Key("computer_name").String(heartbeat.computer_name);
  w.Key("last_seen").String(heartbeat.last_seen);
  if (heartbeat.cluster.has_value() && !heartbeat.cluster->empty()) {
    w.Key("cluster").String(*heartbeat.cluster);
  }
  if (heartbeat.state != HeartbeatState::kRunning) {
    w.Key("state").String(HeartbeatStateName(heartbeat.state));
  }
}

// Parses `text` into `doc` and reads the declared fields.
absl::StatusOr<Heartbeat> Parse(std::string_view text, rapidjson::Document& doc) {
  // ValidateEncoding: JSON text is UTF-8 (Python peers could not read
  // anything else), and only valid UTF-8 survives EncodeHeartbeat.
  TM_RETURN_IF_ERROR(
      json::ParseDocument<rapidjson::kParseStopWhenDoneFlag |
                          rapidjson::kParseValidateEncodingFlag>(text, "heartbeat", &doc));
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

// The `state` member: absent is running. `strict` (a signed heartbeat, where
// the state is signed and means something) refuses values other than
// "running" and "stopping"; otherwise they read as running (unsigned
// heartbeats come from Python peers, whose fields we do not own).
absl::StatusOr<HeartbeatState> ReadState(const rapidjson::Document& doc, bool strict) {
  if (!doc.HasMember("state")) return HeartbeatState::kRunning;
  const rapidjson::Value& state = doc["state"];
  const std::string_view name =
      state.IsString() ? std::string_view(state.GetString(), state.GetStringLength()) : "";
  if (name == HeartbeatStateName(HeartbeatState::kStopping)) return HeartbeatState::kStopping;
  if (strict && name != HeartbeatStateName(HeartbeatState::kRunning)) {
    return absl::InvalidArgumentError("heartbeat: state is not \"running\" or \"stopping\"");
  }
  return HeartbeatState::kRunning;
}

// The string member `name` of `doc`: nullopt when absent, an error naming it
// when present but not a string.
absl::StatusOr<std::optional<std::string_view>> StringMember(const rapidjson::Document& doc,
                                                             std::string_view name) {
  const rapidjson::Value key(rapidjson::StringRef(name.data(), name.size()));
  if (!doc.HasMember(key)) return std::nullopt;
  const rapidjson::Value& v = doc[key];
  if (!v.IsString()) return absl::InvalidArgumentError(Cat("heartbeat: ", name, ": not a string"));
  return std::string_view(v.GetString(), v.GetStringLength());
}

// A peer's name or cluster (issue 15: any name a Python computer may have,
// common/mesh/peer_name.h); the message is one line of valid UTF-8.
absl::Status CheckName(std::string_view field, std::string_view name) {
  return ValidatePeerName(field, name);
}

}  // namespace

std::string_view HeartbeatStateName(HeartbeatState state) {
  return state == HeartbeatState::kStopping ? "stopping" : "running";
}

std::string EncodeHeartbeat(const Heartbeat& heartbeat) {
  std::string canonical;
  json::Writer w(&canonical);
  w.BeginObject();
  WriteDeclared(heartbeat, w);
  w.EndObject();
  // TeleClaude writes heartbeats with json.dumps defaults.
  return json::ToPythonJson(canonical);
}

absl::StatusOr<Heartbeat> DecodeHeartbeat(std::string_view text) {
  rapidjson::Document doc;
  TM_ASSIGN_OR_RETURN(Heartbeat hb, Parse(text, doc));
  TM_ASSIGN_OR_RETURN(hb.state, ReadState(doc, /*strict=*/false));
  return hb;
}

std::string HeartbeatSignedBytes(const Heartbeat& heartbeat, const PublicKey& key) {
  return TranscriptBytes(kHeartbeatSignatureDomain,
                         {heartbeat.computer_name, heartbeat.cluster.value_or(""),
                          heartbeat.last_seen, HeartbeatStateName(heartbeat.state), key.view()});
}

std::string EncodeSignedHeartbeat(const Heartbeat& heartbeat, const IdentityKey& key) {
  return EncodeSignedHeartbeat(heartbeat, key.public_key(),
                               key.Sign(HeartbeatSignedBytes(heartbeat, key.public_key())));
}

std::string EncodeSignedHeartbeat(const Heartbeat& heartbeat, const PublicKey& key,
                                  const Signature& signature) {
  std::string canonical;
  json::Writer w(&canonical);
  w.BeginObject();
  WriteDeclared(heartbeat, w);
  w.Key(kHeartbeatFieldPublicKey).String(key.Base64());
  w.Key(kHeartbeatFieldFingerprint).String(Fingerprint::Of(key).ToString());
  w.Key(kHeartbeatFieldSignature).String(signature.ToWire());
  w.EndObject();
  return json::ToPythonJson(canonical);
}

absl::StatusOr<CheckedHeartbeat> DecodeSignedHeartbeat(std::string_view key,
                                                       std::string_view value) {
  if (value.size() > kMaxHeartbeatBytes) {
    return absl::InvalidArgumentError(
        Cat("heartbeat: ", value.size(), " bytes, more than ", kMaxHeartbeatBytes));
  }
  const std::optional<std::string> key_name = ComputerNameFromHeartbeatKey(key);
  if (!key_name.has_value()) {
    return absl::InvalidArgumentError(Cat("heartbeat: key: ", ShowBytes(key, 100),
                                          " is not of the form computer:{name}:heartbeat"));
  }
  rapidjson::Document doc;
  CheckedHeartbeat checked;
  TM_ASSIGN_OR_RETURN(checked.heartbeat, Parse(value, doc));
  const Heartbeat& hb = checked.heartbeat;
  if (hb.computer_name != *key_name) {
    return absl::InvalidArgumentError(Cat(
        "heartbeat: computer_name: ", json::Quote(hb.computer_name), " is not the name in its key ",
        ShowBytes(key, 100), "; a heartbeat key carries only its own computer's heartbeat"));
  }
  TM_RETURN_IF_ERROR(CheckName("heartbeat: computer_name", hb.computer_name));
  if (hb.cluster.has_value()) TM_RETURN_IF_ERROR(CheckName("heartbeat: cluster", *hb.cluster));

  TM_ASSIGN_OR_RETURN(std::optional<std::string_view> public_key,
                      StringMember(doc, kHeartbeatFieldPublicKey));
  TM_ASSIGN_OR_RETURN(std::optional<std::string_view> fingerprint,
                      StringMember(doc, kHeartbeatFieldFingerprint));
  TM_ASSIGN_OR_RETURN(std::optional<std::string_view> signature,
                      StringMember(doc, kHeartbeatFieldSignature));
  const bool is_signed = public_key || fingerprint || signature;
  TM_ASSIGN_OR_RETURN(checked.heartbeat.state, ReadState(doc, /*strict=*/is_signed));
  if (!is_signed) return checked;
  for (auto [field, present] : {std::pair{kHeartbeatFieldPublicKey, public_key.has_value()},
                                std::pair{kHeartbeatFieldFingerprint, fingerprint.has_value()},
                                std::pair{kHeartbeatFieldSignature, signature.has_value()}}) {
    if (!present) {
      return absl::InvalidArgumentError(
          Cat("heartbeat: ", field,
              ": missing; a signed heartbeat carries public_key, fingerprint and signature"));
    }
  }
  TM_ASSIGN_OR_RETURN(PublicKey pk, PublicKey::FromBase64("heartbeat: public_key", *public_key));
  TM_ASSIGN_OR_RETURN(Fingerprint fp, Fingerprint::Parse("heartbeat: fingerprint", *fingerprint));
  const Fingerprint expected = Fingerprint::Of(pk);
  if (fp != expected) {
    return absl::InvalidArgumentError(Cat("heartbeat: fingerprint: ", fp.ToString(),
                                          " is not the fingerprint of public_key (",
                                          expected.ToString(), ")"));
  }
  TM_ASSIGN_OR_RETURN(Signature sig, Signature::FromWire("heartbeat: signature", *signature));
  absl::StatusOr<Timestamp> last_seen = ParseTimestampIsoformat(hb.last_seen);
  if (!last_seen.ok()) {
    return absl::InvalidArgumentError(Cat("heartbeat: last_seen: not a date-time (",
                                          ToStd(last_seen.status().message()),
                                          "): ", ShowBytes(hb.last_seen, 64)));
  }
  if (!pk.Verify(HeartbeatSignedBytes(hb, pk), sig)) {
    return absl::UnauthenticatedError(
        "heartbeat: signature: does not verify against public_key (forged or altered)");
  }
  checked.signer.emplace(HeartbeatSigner{pk, fp, sig, last_seen->ToTime()});
  return checked;
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
