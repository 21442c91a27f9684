// JSON values <-> Lua values for the cartridge ABI (issue 7 §1).
//
// JSON -> Lua:
//   object  -> table with string keys        array  -> table with keys 1..n
//   string  -> string                        true/false -> boolean
//   integer -> integer when it fits in 64 bits; otherwise its exact decimal
//              digits as a string (e.g. "123456789012345678901234"): left
//              as that same string, it goes back as the same JSON number
//   float   -> float (the NaN / Infinity / -Infinity tokens of model text
//              become nan / math.huge / -math.huge)
//   null    -> json.null (a light userdata; test with `v == json.null`)
// Lua -> JSON (canonical text, json_text.h):
//   integer -> integer digits; float -> float text (1.0 stays 1.0, NaN and
//   infinities as model-text tokens); string -> string (must be valid
//   UTF-8); boolean; json.null -> null; table with only string keys ->
//   object; table with keys exactly 1..n -> array; empty table -> [] when
//   it was built from a JSON array, else {}. Object keys keep the order
//   they had in the JSON the table was built from; keys added by the script
//   follow, in byte order (tables the script creates: all keys in byte
//   order). Failures name the path (`payload.items[2].x`, arrays 1-based):
//   a non-string key that is not part of 1..n, string and integer keys
//   mixed, a cycle ("cyclic table at payload.a.b"), nesting deeper than
//   max_depth, a function / userdata / thread value, invalid UTF-8, or text
//   beyond max_bytes. Metatables are ignored (raw access only).
//
// A codec lives for one LuaSandbox::Run: the tables it builds are anchored
// in the registry (so their identity stays valid) until Release() or the
// next codec's first Push. Going back to JSON it charges its work to the
// meter it was given (lua_meter.h; issue 18 §3): kValueCost per value and
// per table key, one unit per kBytesPerUnit bytes of strings, and
// kCompareCost per comparison (n log2 n) when it sorts the keys of an
// object. Thread-compatible.
#ifndef TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_JSON_CODEC_H_
#define TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_JSON_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "common/json/json_text.h"
#include "services/egress/lua/lua_meter.h"

struct lua_State;

namespace teleclaude::mesh {

class LuaJsonCodec {
 public:
  // Deepest nesting accepted going back to JSON; leaves room for the
  // envelope around a payload within json::kMaxDepth.
  static constexpr int kDefaultMaxDepth = json::kMaxDepth - 2;

  static constexpr int64_t kValueCost = 16;
  static constexpr int64_t kBytesPerUnit = 4;
  static constexpr int64_t kCompareCost = 8;

  // `max_bytes` bounds the text one Append() call may write. `meter` (may
  // be null) must outlive the codec.
  LuaJsonCodec(lua_State* state, size_t max_bytes, int max_depth = kDefaultMaxDepth,
               LuaStepMeter* meter = nullptr);
  LuaJsonCodec(const LuaJsonCodec&) = delete;
  LuaJsonCodec& operator=(const LuaJsonCodec&) = delete;

  // Pushes the Lua value of `json_text` (canonical or model text). Returns
  // InvalidArgument "<path>: not valid JSON ..." on bad text (then nothing
  // is pushed). REQUIRES: called inside LuaSandbox::Run (raises Lua errors
  // when memory runs out).
  absl::Status Push(std::string_view json_text, std::string_view path);

  // Appends the canonical text of the value at `index`; errors as above,
  // InvalidArgument naming `path`. Runs no Lua code; raises the meter's
  // limit error when its charges exceed the budget. REQUIRES: inside
  // LuaSandbox::Run.
  absl::Status Append(int index, std::string_view path, std::string* out);

  // As Append, but the value must be a table usable as a JSON object (an
  // empty table gives {}): "payload: must be a table with string keys (a
  // JSON object), got an array" / "..., got number".
  absl::Status AppendObject(int index, std::string_view path, std::string* out);

  // Drops the anchors of the tables built so far. Raises no Lua error.
  void Release();

  // Charges `units` of the caller's work on values of this codec to the
  // meter (may raise its limit error). REQUIRES: inside LuaSandbox::Run.
  void Charge(int64_t units);

  // Defines the global `json` table with `json.null`. REQUIRES: inside
  // LuaSandbox::Run.
  static void OpenLibrary(lua_State* state);
  static bool IsNull(lua_State* state, int index);

 private:
  // Where a table built by Push() came from.
  struct Origin {
    bool array = false;
    std::vector<std::string> keys;  // objects: keys in JSON order
    // Members / elements that were integers beyond 64 bits: the digits.
    absl::flat_hash_map<std::string, std::string> big_members;
    absl::flat_hash_map<int64_t, std::string> big_elements;
  };
  class Builder;

  absl::Status AppendValue(int index, int depth, std::string* out);
  // Appends the value on top of the stack (it stays there). A string equal to
  // the digits `big` records under `at` (an integer too large for Lua, left
  // unchanged) goes back as that number. `big` may be null.
  template <typename Map, typename At>
  absl::Status AppendTop(const Map* big, const At& at, int depth, std::string* out);
  absl::Status AppendTable(int index, int depth, bool require_object, std::string* out);
  absl::Status AppendArray(int index, int64_t size, int depth, const Origin* origin,
                           std::string* out);
  absl::Status AppendMembers(int index, std::vector<std::string_view>& keys, int depth,
                             const Origin* origin, std::string* out);
  absl::Status CheckSize(const std::string& out) const;
  absl::Status PathError(std::string_view message) const;

  lua_State* const state_;
  const size_t max_bytes_;
  const int max_depth_;
  LuaStepCounter steps_;

  bool anchored_ = false;
  int64_t anchors_ = 0;
  absl::node_hash_map<const void*, Origin> origins_;
  // During Append: the path of the current value and the tables being
  // written (cycle detection).
  std::string path_;
  std::vector<const void*> open_tables_;
  size_t out_start_ = 0;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_SERVICES_EGRESS_LUA_LUA_JSON_CODEC_H_
