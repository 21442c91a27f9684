#include "services/egress/lua/lua_envelope.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/base/status_macros.h"
#include "common/base/strings.h"
#include "common/envelope/json_codec.h"
#include "common/envelope/timestamp_codec.h"
#include "common/json/json_text.h"
#include "lauxlib.h"
#include "lua.h"

namespace teleclaude::mesh {
namespace {

constexpr std::array<std::string_view, 14> kDeclaredFields = {
    "event",   "version", "source",        "timestamp",       "idempotency_key",
    "level",   "domain",  "entity",        "description",     "visibility",
    "payload", "actions", "terminal_when", "resolution_shape"};

constexpr std::array<std::string_view, 8> kEmitFields = {"event",       "level",          "payload",
                                                         "visibility",  "domain",         "entity",
                                                         "description", "idempotency_key"};

bool IsDeclared(std::string_view key) {
  return std::find(kDeclaredFields.begin(), kDeclaredFields.end(), key) != kDeclaredFields.end();
}

// "9", "2.5", "\"galaxy\"", "a table", "json.null", "nil".
std::string Describe(lua_State* state, int index) {
  switch (lua_type(state, index)) {
    case LUA_TNIL:
      return "nil";
    case LUA_TNUMBER:
      if (lua_isinteger(state, index))
        return Cat(static_cast<int64_t>(lua_tointeger(state, index)));
      return json::FormatDoubleMesh(lua_tonumber(state, index));
    case LUA_TBOOLEAN:
      return lua_toboolean(state, index) ? "true" : "false";
    case LUA_TSTRING: {
      size_t size = 0;
      const char* text = lua_tolstring(state, index, &size);
      std::string_view value(text, std::min<size_t>(size, 60));
      return Cat(json::Quote(value), size > 60 ? "..." : "");
    }
    case LUA_TLIGHTUSERDATA:
      if (LuaJsonCodec::IsNull(state, index)) return "json.null";
      [[fallthrough]];
    default:
      return Cat("a ", lua_typename(state, lua_type(state, index)));
  }
}

void SetString(lua_State* state, const char* key, std::string_view value) {
  lua_pushlstring(state, value.data(), value.size());
  lua_setfield(state, -2, key);
}

// Reads the fields of one Lua table with raw access; every error is
// "<prefix>: <field>: <why>".
class FieldReader {
 public:
  FieldReader(lua_State* state, int index, std::string_view prefix)
      : state_(state), index_(lua_absindex(state, index)), prefix_(prefix) {}

  absl::Status Error(std::string_view field, std::string_view why) const {
    return absl::InvalidArgumentError(Cat(prefix_, ": ", field, ": ", why));
  }

  // Pushes the raw value of `field`; the caller pops it.
  int Get(std::string_view field) {
    lua_pushlstring(state_, field.data(), field.size());
    lua_rawget(state_, index_);
    return lua_type(state_, -1);
  }
  // A string; nullopt when nil / json.null.
  absl::StatusOr<std::optional<std::string>> String(std::string_view field) {
    std::string value;
    bool present = false;
    TM_RETURN_IF_ERROR(ReadString(field, false, &present, &value));
    if (!present) return std::optional<std::string>();
    return std::optional<std::string>(std::move(value));
  }
  // A string that must be there.
  absl::StatusOr<std::string> RequiredString(std::string_view field, bool non_empty) {
    std::string value;
    bool present = false;
    TM_RETURN_IF_ERROR(ReadString(field, non_empty, &present, &value));
    if (!present) return Error(field, "field required (a string)");
    return value;
  }

  // An integer; nullopt when nil / json.null and `required` is false.
  absl::StatusOr<std::optional<int64_t>> Integer(std::string_view field, bool required,
                                                 std::string_view what = "must be an integer") {
    Get(field);
    Popper pop(state_);
    if (lua_isnil(state_, -1) || LuaJsonCodec::IsNull(state_, -1)) {
      if (required) return Error(field, Cat("field required (", what.substr(8), ")"));
      return std::optional<int64_t>();
    }
    int is_integer = 0;
    lua_Integer value = 0;
    if (lua_type(state_, -1) == LUA_TNUMBER) value = lua_tointegerx(state_, -1, &is_integer);
    if (!is_integer) return Error(field, Cat(what, ", got ", Describe(state_, -1)));
    return std::optional<int64_t>(value);
  }

  absl::StatusOr<Level> LevelField(bool required) {
    constexpr std::string_view kWhat = "must be an integer 0-3 (INFRASTRUCTURE..BUSINESS)";
    TM_ASSIGN_OR_RETURN(std::optional<int64_t> level, Integer("level", required, kWhat));
    if (!level.has_value()) return Level::kInfrastructure;
    if (*level < 0 || *level > 3) return Error("level", Cat(kWhat, ", got ", *level));
    return static_cast<Level>(*level);
  }

  absl::StatusOr<Visibility> VisibilityField() {
    TM_ASSIGN_OR_RETURN(std::optional<std::string> name, String("visibility"));
    if (!name.has_value()) return Visibility::kLocal;
    std::optional<Visibility> visibility = ParseVisibility(*name);
    if (!visibility.has_value()) {
      return Error("visibility",
                   Cat("must be one of local, cluster, public, got ", json::Quote(*name)));
    }
    return *visibility;
  }

  // The canonical text of a table-valued field; nullopt when nil / json.null.
  absl::StatusOr<std::optional<std::string>> Object(std::string_view field, LuaJsonCodec& codec) {
    Get(field);
    Popper pop(state_);
    if (lua_isnil(state_, -1) || LuaJsonCodec::IsNull(state_, -1)) {
      return std::optional<std::string>();
    }
    std::string text;
    absl::Status status = codec.AppendObject(-1, field, &text);
    if (!status.ok()) return absl::InvalidArgumentError(Cat(prefix_, ": ", status.message()));
    return std::optional<std::string>(std::move(text));
  }

  // The string keys of the table; a non-string key is an error.
  absl::StatusOr<std::vector<std::string>> Keys() {
    std::vector<std::string> keys;
    lua_pushnil(state_);
    while (lua_next(state_, index_) != 0) {
      if (lua_type(state_, -2) != LUA_TSTRING) {
        std::string key = Describe(state_, -2);
        lua_pop(state_, 2);
        return absl::InvalidArgumentError(
            Cat(prefix_, ": key ", key, " is not a string (field names are strings)"));
      }
      size_t size = 0;
      const char* text = lua_tolstring(state_, -2, &size);
      keys.emplace_back(text, size);
      lua_pop(state_, 1);
    }
    return keys;
  }

 private:
  absl::Status ReadString(std::string_view field, bool non_empty, bool* present,
                          std::string* value) {
    Get(field);
    Popper pop(state_);
    *present = !(lua_isnil(state_, -1) || LuaJsonCodec::IsNull(state_, -1));
    if (!*present) return absl::OkStatus();
    if (lua_type(state_, -1) != LUA_TSTRING || (non_empty && lua_rawlen(state_, -1) == 0)) {
      return Error(field, Cat(non_empty ? "must be a non-empty string" : "must be a string",
                              ", got ", Describe(state_, -1)));
    }
    size_t size = 0;
    const char* text = lua_tolstring(state_, -1, &size);
    value->assign(text, size);
    return absl::OkStatus();
  }

  struct Popper {
    explicit Popper(lua_State* state) : state(state) {}
    ~Popper() { lua_pop(state, 1); }
    lua_State* state;
  };

  lua_State* const state_;
  const int index_;
  const std::string_view prefix_;
};

// True when `text` is a JSON integer (canonical digits).
bool IsIntegerText(std::string_view text) {
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// What sorting `n` keys costs (n log2 n comparisons).
int64_t SortCost(size_t n) {
  int64_t log2 = 1;
  while ((size_t{1} << log2) < n) ++log2;
  return LuaCostProduct(n * static_cast<size_t>(log2), LuaJsonCodec::kCompareCost);
}

// Checks changed actions / resolution_shape the way the envelope decoder
// does, and returns them as the model writes them.
absl::Status NormalizeStructuredFields(EventEnvelope& result, LuaJsonCodec& codec) {
  std::string document = R"({"event":"e","source":"s","level":0)";
  if (result.actions_json.has_value()) CatTo(document, ",\"actions\":", *result.actions_json);
  if (result.resolution_shape_json.has_value()) {
    CatTo(document, ",\"resolution_shape\":", *result.resolution_shape_json);
  }
  document.push_back('}');
  codec.Charge(static_cast<int64_t>(document.size()) / LuaJsonCodec::kBytesPerUnit);
  absl::StatusOr<EventEnvelope> decoded = DecodeEnvelopeJson(document);
  if (!decoded.ok()) {
    return absl::InvalidArgumentError(Cat("returned event: ", decoded.status().message()));
  }
  result.actions_json = std::move(decoded->actions_json);
  result.resolution_shape_json = std::move(decoded->resolution_shape_json);
  return absl::OkStatus();
}

}  // namespace

absl::Status PushEventTable(lua_State* state, const EventEnvelope& event, LuaJsonCodec& codec) {
  luaL_checkstack(state, 4, "event table");
  lua_createtable(state, 0, 14 + static_cast<int>(event.extras.size()));
  SetString(state, "event", event.event);
  lua_pushinteger(state, event.version);
  lua_setfield(state, -2, "version");
  SetString(state, "source", event.source);
  SetString(state, "timestamp", FormatTimestampMesh(event.timestamp));
  if (event.idempotency_key.has_value()) {
    SetString(state, "idempotency_key", *event.idempotency_key);
  }
  lua_pushinteger(state, static_cast<int>(event.level));
  lua_setfield(state, -2, "level");
  SetString(state, "domain", event.domain);
  if (event.entity.has_value()) SetString(state, "entity", *event.entity);
  SetString(state, "description", event.description);
  SetString(state, "visibility", VisibilityName(event.visibility));
  TM_RETURN_IF_ERROR(codec.Push(event.payload_json, "payload"));
  lua_setfield(state, -2, "payload");
  if (event.actions_json.has_value()) {
    TM_RETURN_IF_ERROR(codec.Push(*event.actions_json, "actions"));
    lua_setfield(state, -2, "actions");
  }
  if (event.terminal_when.has_value()) SetString(state, "terminal_when", *event.terminal_when);
  if (event.resolution_shape_json.has_value()) {
    TM_RETURN_IF_ERROR(codec.Push(*event.resolution_shape_json, "resolution_shape"));
    lua_setfield(state, -2, "resolution_shape");
  }
  for (const auto& [key, value] : event.extras) {
    lua_pushlstring(state, key.data(), key.size());
    TM_RETURN_IF_ERROR(codec.Push(value, key));
    lua_rawset(state, -3);
  }
  return absl::OkStatus();
}

absl::StatusOr<EventEnvelope> EventFromTable(lua_State* state, int index,
                                             const EventEnvelope& original, LuaJsonCodec& codec) {
  luaL_checkstack(state, 4, "event table");
  FieldReader reader(state, index, "returned event");
  TM_ASSIGN_OR_RETURN(std::vector<std::string> keys, reader.Keys());
  codec.Charge(LuaCostProduct(keys.size(), LuaJsonCodec::kValueCost));
  EventEnvelope result;

  TM_ASSIGN_OR_RETURN(result.event, reader.RequiredString("event", true));
  TM_ASSIGN_OR_RETURN(std::optional<int64_t> version, reader.Integer("version", false));
  result.version = version.value_or(1);
  TM_ASSIGN_OR_RETURN(result.source, reader.RequiredString("source", false));

  TM_ASSIGN_OR_RETURN(std::optional<std::string> timestamp, reader.String("timestamp"));
  if (!timestamp.has_value()) {
    result.timestamp = Timestamp::NowUtc();
  } else if (*timestamp == FormatTimestampMesh(original.timestamp)) {
    result.timestamp = original.timestamp;
  } else {
    absl::StatusOr<Timestamp> parsed = ParseTimestamp(*timestamp);
    if (!parsed.ok()) return reader.Error("timestamp", ToStd(parsed.status().message()));
    result.timestamp = *parsed;
  }

  TM_ASSIGN_OR_RETURN(result.idempotency_key, reader.String("idempotency_key"));
  TM_ASSIGN_OR_RETURN(result.level, reader.LevelField(true));
  TM_ASSIGN_OR_RETURN(std::optional<std::string> domain, reader.String("domain"));
  result.domain = domain.value_or("");
  TM_ASSIGN_OR_RETURN(result.entity, reader.String("entity"));
  TM_ASSIGN_OR_RETURN(std::optional<std::string> description, reader.String("description"));
  result.description = description.value_or("");
  TM_ASSIGN_OR_RETURN(result.visibility, reader.VisibilityField());

  TM_ASSIGN_OR_RETURN(std::optional<std::string> payload, reader.Object("payload", codec));
  result.payload_json = payload.value_or("{}");
  TM_ASSIGN_OR_RETURN(result.actions_json, reader.Object("actions", codec));
  TM_ASSIGN_OR_RETURN(result.terminal_when, reader.String("terminal_when"));
  TM_ASSIGN_OR_RETURN(result.resolution_shape_json, reader.Object("resolution_shape", codec));
  if (result.actions_json != original.actions_json ||
      result.resolution_shape_json != original.resolution_shape_json) {
    TM_RETURN_IF_ERROR(NormalizeStructuredFields(result, codec));
  }

  // Undeclared keys: the envelope's own in their order, then new ones in
  // byte order. (Looked up in hash tables: the script may return many keys;
  // the usual envelope has no undeclared keys, and then builds none.)
  std::vector<std::string> extra_keys;
  absl::flat_hash_map<std::string, std::string_view> original_values;
  if (!original.extras.empty()) {
    const absl::flat_hash_set<std::string> present(keys.begin(), keys.end());
    for (const auto& [key, value] : original.extras) {
      original_values.try_emplace(key, value);
      if (present.contains(key)) extra_keys.push_back(key);
    }
  }
  const size_t kept_count = extra_keys.size();
  for (const std::string& key : keys) {
    if (IsDeclared(key)) continue;
    if (!original_values.empty() && original_values.contains(key)) continue;
    extra_keys.push_back(key);
  }
  codec.Charge(SortCost(extra_keys.size() - kept_count));
  std::sort(extra_keys.begin() + static_cast<ptrdiff_t>(kept_count), extra_keys.end());
  for (const std::string& key : extra_keys) {
    reader.Get(key);
    std::string text;
    absl::Status status = absl::OkStatus();
    // A top-level integer beyond 64 bits that the script left alone.
    auto same = original_values.find(key);
    size_t size = 0;
    const char* value =
        lua_type(state, -1) == LUA_TSTRING ? lua_tolstring(state, -1, &size) : nullptr;
    if (same != original_values.end() && value != nullptr && IsIntegerText(same->second) &&
        same->second == std::string_view(value, size)) {
      text = std::string(same->second);
    } else {
      status = codec.Append(-1, key, &text);
    }
    lua_pop(state, 1);
    if (!status.ok()) return absl::InvalidArgumentError(Cat("returned event: ", status.message()));
    result.extras.emplace_back(key, std::move(text));
  }
  return result;
}

absl::StatusOr<EventEnvelope> EmittedEventFromTable(lua_State* state, int index,
                                                    LuaJsonCodec& codec) {
  luaL_checkstack(state, 4, "emit table");
  FieldReader reader(state, index, "emit");
  TM_ASSIGN_OR_RETURN(std::vector<std::string> keys, reader.Keys());
  codec.Charge(LuaCostProduct(keys.size(), LuaJsonCodec::kValueCost));
  for (const std::string& key : keys) {
    if (std::find(kEmitFields.begin(), kEmitFields.end(), key) == kEmitFields.end()) {
      return absl::InvalidArgumentError(
          Cat("emit: unknown field ", json::Quote(key),
              " (allowed: event, level, payload, visibility, domain, entity, description, "
              "idempotency_key)"));
    }
  }
  EventEnvelope result;
  TM_ASSIGN_OR_RETURN(result.event, reader.RequiredString("event", true));
  TM_ASSIGN_OR_RETURN(result.level, reader.LevelField(true));
  TM_ASSIGN_OR_RETURN(std::optional<std::string> payload, reader.Object("payload", codec));
  result.payload_json = payload.value_or("{}");
  TM_ASSIGN_OR_RETURN(result.visibility, reader.VisibilityField());
  TM_ASSIGN_OR_RETURN(std::optional<std::string> domain, reader.String("domain"));
  result.domain = domain.value_or("");
  TM_ASSIGN_OR_RETURN(result.entity, reader.String("entity"));
  TM_ASSIGN_OR_RETURN(std::optional<std::string> description, reader.String("description"));
  result.description = description.value_or("");
  TM_ASSIGN_OR_RETURN(result.idempotency_key, reader.String("idempotency_key"));
  result.version = 1;
  result.source.clear();
  result.timestamp = Timestamp::NowUtc();
  return result;
}

}  // namespace teleclaude::mesh
