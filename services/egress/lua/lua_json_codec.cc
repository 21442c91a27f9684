#include "services/egress/lua/lua_json_codec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "common/base/strings.h"
#include "common/base/utf8.h"
#include "common/json/reader.h"
#include "lauxlib.h"
#include "lua.h"
#include "rapidjson/error/en.h"
#include "rapidjson/memorystream.h"
#include "rapidjson/reader.h"

namespace teleclaude::mesh {
namespace {

// Registry key of the table that keeps the tables of the current call alive.
const char kAnchorKey = 0;

constexpr unsigned kReaderFlags = rapidjson::kParseIterativeFlag |
                                  rapidjson::kParseNumbersAsStringsFlag |
                                  rapidjson::kParseNanAndInfFlag;

// Keeps the collector from running (and finalizers from running script
// code) while raw table contents are being read.
class GcPause {
 public:
  explicit GcPause(lua_State* state)
      : state_(state), was_running_(lua_gc(state, LUA_GCISRUNNING) != 0) {
    if (was_running_) lua_gc(state_, LUA_GCSTOP);
  }
  ~GcPause() {
    if (was_running_) lua_gc(state_, LUA_GCRESTART);
  }
  GcPause(const GcPause&) = delete;
  GcPause& operator=(const GcPause&) = delete;

 private:
  lua_State* const state_;
  const bool was_running_;
};

std::string DescribeKey(lua_State* state, int index) {
  switch (lua_type(state, index)) {
    case LUA_TNUMBER:
      if (lua_isinteger(state, index))
        return Cat(static_cast<int64_t>(lua_tointeger(state, index)));
      return json::FormatDoubleMesh(lua_tonumber(state, index));
    case LUA_TBOOLEAN:
      return lua_toboolean(state, index) ? "true" : "false";
    default:
      return Cat("of type ", lua_typename(state, lua_type(state, index)));
  }
}

// Keys of Origin's maps of big numbers.
int64_t BigKey(int64_t position) { return position; }
absl::string_view BigKey(std::string_view key) { return ToAbsl(key); }

}  // namespace

// SAX handler building Lua values on the stack. Lua errors (memory) may be
// raised from any method; they unwind as C++ exceptions (lua_sandbox.h).
class LuaJsonCodec::Builder {
 public:
  Builder(LuaJsonCodec& codec, int anchor_index)
      : codec_(codec), state_(codec.state_), anchor_index_(anchor_index) {}

  const std::string& error() const { return error_; }

  bool Null() {
    lua_pushlightuserdata(state_, nullptr);
    return Added();
  }
  bool Bool(bool b) {
    lua_pushboolean(state_, b);
    return Added();
  }
  bool Int(int) { return Unexpected(); }
  bool Uint(unsigned) { return Unexpected(); }
  bool Int64(int64_t) { return Unexpected(); }
  bool Uint64(uint64_t) { return Unexpected(); }
  bool Double(double) { return Unexpected(); }
  bool RawNumber(const char* text, rapidjson::SizeType size, bool /*copy*/) {
    std::string_view raw(text, size);
    if (raw.find_first_of("NI") != std::string_view::npos) {  // NaN, Inf, Infinity
      double inf = std::numeric_limits<double>::infinity();
      lua_pushnumber(state_, raw.find('N') != std::string_view::npos
                                 ? std::numeric_limits<double>::quiet_NaN()
                                 : (raw.front() == '-' ? -inf : inf));
    } else if (raw.find_first_of(".eE") != std::string_view::npos) {
      double value = 0;
      auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
      if (ec == std::errc::result_out_of_range) {
        value = std::strtod(std::string(raw).c_str(), nullptr);  // +-inf or +-0
      } else if (ec != std::errc() || end != raw.data() + raw.size()) {
        error_ = Cat("bad number ", raw);
        return false;
      }
      lua_pushnumber(state_, value);
    } else {
      int64_t value = 0;
      if (ParseInt(raw, &value)) {
        lua_pushinteger(state_, value);
      } else {
        // Beyond 64 bits: the exact digits as a string, remembered so that
        // an unchanged value goes back as the number.
        lua_pushlstring(state_, raw.data(), raw.size());
        if (!frames_.empty()) {
          Frame& frame = frames_.back();
          if (frame.origin->array) {
            frame.origin->big_elements[frame.count + 1] = std::string(raw);
          } else {
            frame.origin->big_members[frame.key] = std::string(raw);
          }
        }
      }
    }
    return Added();
  }
  bool String(const char* text, rapidjson::SizeType size, bool /*copy*/) {
    lua_pushlstring(state_, text, size);
    return Added();
  }
  bool StartObject() { return Start(/*array=*/false); }
  bool Key(const char* text, rapidjson::SizeType size, bool /*copy*/) {
    Frame& frame = frames_.back();
    frame.key.assign(text, size);
    frame.origin->keys.push_back(frame.key);
    lua_pushlstring(state_, text, size);
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    frames_.pop_back();
    return Added();
  }
  bool StartArray() { return Start(/*array=*/true); }
  bool EndArray(rapidjson::SizeType) {
    frames_.pop_back();
    return Added();
  }

 private:
  struct Frame {
    Origin* origin;
    int64_t count = 0;
    std::string key;
  };

  bool Start(bool array) {
    luaL_checkstack(state_, 4, "JSON nesting");
    lua_newtable(state_);
    lua_pushvalue(state_, -1);
    lua_rawseti(state_, anchor_index_, ++codec_.anchors_);
    Origin& origin = codec_.origins_[lua_topointer(state_, -1)];
    origin = Origin{};
    origin.array = array;
    frames_.push_back(Frame{&origin, 0, {}});
    return true;
  }
  // A value is on top of the stack: store it in the enclosing table.
  bool Added() {
    if (frames_.empty()) return true;  // the top-level value stays pushed
    Frame& frame = frames_.back();
    if (frame.origin->array) {
      lua_rawseti(state_, -2, ++frame.count);
    } else {
      lua_rawset(state_, -3);
    }
    return true;
  }
  bool Unexpected() {
    error_ = "internal: number not delivered as text";
    return false;
  }

  LuaJsonCodec& codec_;
  lua_State* const state_;
  const int anchor_index_;
  std::vector<Frame> frames_;
  std::string error_;
};

LuaJsonCodec::LuaJsonCodec(lua_State* state, size_t max_bytes, int max_depth, LuaStepMeter* meter)
    : state_(state), max_bytes_(max_bytes), max_depth_(max_depth), steps_(meter) {}

void LuaJsonCodec::Charge(int64_t units) {
  steps_.Step(state_, units);
  steps_.Flush(state_);
}

void LuaJsonCodec::OpenLibrary(lua_State* state) {
  lua_createtable(state, 0, 1);
  lua_pushlightuserdata(state, nullptr);
  lua_setfield(state, -2, "null");
  lua_setglobal(state, "json");
}

bool LuaJsonCodec::IsNull(lua_State* state, int index) {
  return lua_type(state, index) == LUA_TLIGHTUSERDATA && lua_touserdata(state, index) == nullptr;
}

absl::Status LuaJsonCodec::Push(std::string_view json_text, std::string_view path) {
  if (absl::Status nul = json::CheckNoNulByte(json_text, path); !nul.ok()) return nul;
  luaL_checkstack(state_, 4, "JSON value");
  if (!anchored_) {
    lua_newtable(state_);
    lua_rawsetp(state_, LUA_REGISTRYINDEX, &kAnchorKey);
    anchored_ = true;
  }
  lua_rawgetp(state_, LUA_REGISTRYINDEX, &kAnchorKey);
  const int anchor_index = lua_gettop(state_);
  Builder builder(*this, anchor_index);
  rapidjson::Reader reader;
  rapidjson::MemoryStream stream(json_text.data(), json_text.size());
  rapidjson::ParseResult result = reader.Parse<kReaderFlags>(stream, builder);
  if (!result) {
    lua_settop(state_, anchor_index - 1);
    std::string reason = !builder.error().empty() ? builder.error()
                         : result.Code() == rapidjson::kParseErrorNumberTooBig
                             ? "a number too large to convert (more than 308 digits)"
                             : rapidjson::GetParseError_En(result.Code());
    return absl::InvalidArgumentError(
        Cat(path, ": not valid JSON for Lua: ", reason, " at offset ", result.Offset()));
  }
  lua_remove(state_, anchor_index);
  return absl::OkStatus();
}

void LuaJsonCodec::Release() {
  if (!anchored_) return;
  lua_pushnil(state_);
  lua_rawsetp(state_, LUA_REGISTRYINDEX, &kAnchorKey);
  anchored_ = false;
  anchors_ = 0;
  origins_.clear();
}

absl::Status LuaJsonCodec::PathError(std::string_view message) const {
  return absl::InvalidArgumentError(Cat(path_, ": ", message));
}

absl::Status LuaJsonCodec::CheckSize(const std::string& out) const {
  if (out.size() - out_start_ > max_bytes_) {
    return PathError(Cat("the JSON text exceeds ", max_bytes_, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status LuaJsonCodec::Append(int index, std::string_view path, std::string* out) {
  GcPause pause(state_);
  path_.assign(path);
  open_tables_.clear();
  out_start_ = out->size();
  absl::Status status = AppendValue(lua_absindex(state_, index), 0, out);
  steps_.Flush(state_);
  return status;
}

absl::Status LuaJsonCodec::AppendObject(int index, std::string_view path, std::string* out) {
  GcPause pause(state_);
  path_.assign(path);
  open_tables_.clear();
  out_start_ = out->size();
  if (lua_type(state_, index) != LUA_TTABLE) {
    return PathError(Cat("must be a table (a JSON object), got ",
                         lua_typename(state_, lua_type(state_, index))));
  }
  absl::Status status = AppendTable(lua_absindex(state_, index), 0, /*require_object=*/true, out);
  steps_.Flush(state_);
  return status;
}

absl::Status LuaJsonCodec::AppendValue(int index, int depth, std::string* out) {
  steps_.Step(state_, kValueCost);
  switch (lua_type(state_, index)) {
    case LUA_TBOOLEAN:
      out->append(lua_toboolean(state_, index) ? "true" : "false");
      break;
    case LUA_TNUMBER:
      if (lua_isinteger(state_, index)) {
        CatTo(*out, static_cast<int64_t>(lua_tointeger(state_, index)));
      } else {
        out->append(json::FormatDoubleMesh(lua_tonumber(state_, index)));
      }
      break;
    case LUA_TSTRING: {
      size_t size = 0;
      const char* text = lua_tolstring(state_, index, &size);
      steps_.Step(state_, static_cast<int64_t>(size) / kBytesPerUnit);
      std::string_view value(text, size);
      if (!IsValidUtf8(value)) return PathError("string is not valid UTF-8");
      json::AppendQuoted(value, out);
      break;
    }
    case LUA_TLIGHTUSERDATA:
      if (!IsNull(state_, index)) return PathError("cannot convert a light userdata to JSON");
      out->append("null");
      break;
    case LUA_TTABLE:
      return AppendTable(index, depth, /*require_object=*/false, out);
    case LUA_TNIL:
      return PathError("is nil (use json.null for a JSON null)");
    default:
      return PathError(
          Cat("cannot convert a ", lua_typename(state_, lua_type(state_, index)), " to JSON"));
  }
  return CheckSize(*out);
}

absl::Status LuaJsonCodec::AppendTable(int index, int depth, bool require_object,
                                       std::string* out) {
  if (depth >= max_depth_) return PathError(Cat("nested deeper than ", max_depth_, " levels"));
  const void* table = lua_topointer(state_, index);
  if (std::find(open_tables_.begin(), open_tables_.end(), table) != open_tables_.end()) {
    return absl::InvalidArgumentError(Cat("cyclic table at ", path_));
  }
  luaL_checkstack(state_, 4, "table nesting");
  auto found = origins_.find(table);
  const Origin* origin = found == origins_.end() ? nullptr : &found->second;

  // The keys: strings (an object) or exactly 1..n (an array).
  std::vector<std::string_view> keys;
  int64_t integer_keys = 0;
  int64_t max_integer_key = 0;
  lua_pushnil(state_);
  while (lua_next(state_, index) != 0) {
    steps_.Step(state_, kValueCost);
    int type = lua_type(state_, -2);
    if (type == LUA_TSTRING) {
      size_t size = 0;
      const char* text = lua_tolstring(state_, -2, &size);
      keys.emplace_back(text, size);
    } else if (type == LUA_TNUMBER && lua_isinteger(state_, -2) && lua_tointeger(state_, -2) > 0) {
      ++integer_keys;
      max_integer_key = std::max<int64_t>(max_integer_key, lua_tointeger(state_, -2));
    } else {
      std::string key = DescribeKey(state_, -2);
      lua_pop(state_, 2);
      return PathError(Cat("key ", key,
                           " is not a string (JSON object keys are strings; a JSON array is a "
                           "table with keys 1..n)"));
    }
    lua_pop(state_, 1);
  }
  if (integer_keys > 0 && !keys.empty()) {
    return PathError(
        "table mixes string keys and integer keys (a JSON object has string keys, "
        "a JSON array keys 1..n)");
  }
  if (integer_keys > 0 && max_integer_key != integer_keys) {
    return PathError(Cat("integer keys must be 1..n without holes to make a JSON array (found key ",
                         max_integer_key, " among ", integer_keys, " integer keys)"));
  }
  if (require_object && integer_keys > 0) {
    return PathError("must be a table with string keys (a JSON object), got an array (keys 1..n)");
  }

  open_tables_.push_back(table);
  absl::Status status;
  if (integer_keys > 0) {
    status = AppendArray(index, integer_keys, depth, origin, out);
  } else if (keys.empty()) {
    out->append(!require_object && origin != nullptr && origin->array ? "[]" : "{}");
  } else {
    status = AppendMembers(index, keys, depth, origin, out);
  }
  open_tables_.pop_back();
  if (!status.ok()) return status;
  return CheckSize(*out);
}

template <typename Map, typename At>
absl::Status LuaJsonCodec::AppendTop(const Map* big, const At& at, int depth, std::string* out) {
  if (big != nullptr && !big->empty() && lua_type(state_, -1) == LUA_TSTRING) {
    size_t length = 0;
    const char* text = lua_tolstring(state_, -1, &length);
    auto found = big->find(BigKey(at));
    if (found != big->end() && found->second == std::string_view(text, length)) {
      out->append(found->second);
      return absl::OkStatus();
    }
  }
  return AppendValue(lua_gettop(state_), depth + 1, out);
}

absl::Status LuaJsonCodec::AppendArray(int index, int64_t size, int depth, const Origin* origin,
                                       std::string* out) {
  const size_t path_size = path_.size();
  out->push_back('[');
  for (int64_t i = 1; i <= size; ++i) {
    if (i > 1) out->push_back(',');
    lua_rawgeti(state_, index, i);
    path_.resize(path_size);
    CatTo(path_, '[', i, ']');
    absl::Status status =
        AppendTop(origin != nullptr ? &origin->big_elements : nullptr, i, depth, out);
    lua_pop(state_, 1);
    if (!status.ok()) return status;
  }
  out->push_back(']');
  path_.resize(path_size);
  return absl::OkStatus();
}

absl::Status LuaJsonCodec::AppendMembers(int index, std::vector<std::string_view>& keys, int depth,
                                         const Origin* origin, std::string* out) {
  // Original keys in their JSON order, then new keys in byte order.
  absl::flat_hash_map<std::string_view, size_t> position;
  if (origin != nullptr) {
    for (size_t i = 0; i < origin->keys.size(); ++i) {
      position.try_emplace(origin->keys[i], i);
    }
  }
  auto rank = [&](std::string_view key) {
    auto it = position.find(key);
    return it == position.end() ? std::numeric_limits<size_t>::max() : it->second;
  };
  // n log2 n comparisons, charged before sorting.
  int64_t log2 = 1;
  while ((size_t{1} << log2) < keys.size()) ++log2;
  steps_.Step(state_, LuaCostProduct(keys.size() * static_cast<size_t>(log2), kCompareCost));
  std::sort(keys.begin(), keys.end(), [&](std::string_view a, std::string_view b) {
    size_t ra = rank(a), rb = rank(b);
    return ra != rb ? ra < rb : a < b;
  });

  const size_t path_size = path_.size();
  out->push_back('{');
  bool first = true;
  for (std::string_view key : keys) {
    path_.resize(path_size);
    CatTo(path_, '.', key);
    if (!IsValidUtf8(key)) return PathError("key is not valid UTF-8");
    if (!first) out->push_back(',');
    first = false;
    json::AppendQuoted(key, out);
    out->push_back(':');
    lua_pushlstring(state_, key.data(), key.size());
    lua_rawget(state_, index);
    absl::Status status =
        AppendTop(origin != nullptr ? &origin->big_members : nullptr, key, depth, out);
    lua_pop(state_, 1);
    if (!status.ok()) return status;
  }
  out->push_back('}');
  path_.resize(path_size);
  return absl::OkStatus();
}

}  // namespace teleclaude::mesh
