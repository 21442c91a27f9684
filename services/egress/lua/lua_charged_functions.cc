#include "services/egress/lua/lua_charged_functions.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "glog/logging.h"
#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

// The cost functions read the arguments the way Lua 5.4.4's functions do
// (lstrlib.c, lutf8lib.c) but never raise and never convert an argument in
// place: an argument the function would refuse costs nothing, and the
// function then raises its own error.

namespace teleclaude::mesh {
namespace {

constexpr int64_t kCopyBytesPerUnit = 4;
// Longest text of a number used as a string (luaO_tostring: LUAI_MAXSHORTLEN).
constexpr int64_t kNumberTextBytes = 44;

// What a wrapper charges: `before` runs before Lua's function and may leave
// in *mark what `after` needs; `after` (optional) runs after it returned
// `results` values, which are on top of the stack.
struct ChargeSpec {
  enum class Table { kGlobals, kString, kUtf8, kMath, kStringMetatable };
  Table table;
  const char* name;
  int64_t (*before)(lua_State* state, int64_t* mark);
  int64_t (*after)(lua_State* state, int results, int64_t mark);
};

// The size of argument `arg` as the string Lua's function will read; -1
// when it is neither a string nor a number.
int64_t StringSize(lua_State* state, int arg) {
  switch (lua_type(state, arg)) {
    case LUA_TSTRING:
      return static_cast<int64_t>(lua_rawlen(state, arg));
    case LUA_TNUMBER:
      return kNumberTextBytes;
    default:
      return -1;
  }
}

int64_t NonNegative(int64_t size) { return std::max<int64_t>(size, 0); }

// luaL_optinteger without raising: `fallback` when absent or nil, nullopt
// when not an integer.
std::optional<lua_Integer> OptInteger(lua_State* state, int arg, lua_Integer fallback) {
  if (lua_isnoneornil(state, arg)) return fallback;
  int is_integer = 0;
  const lua_Integer value = lua_tointegerx(state, arg, &is_integer);
  if (!is_integer) return std::nullopt;
  return value;
}

// lstrlib.c's posrelatI and getendpos.
size_t StartPosition(lua_Integer position, size_t size) {
  if (position > 0) return static_cast<size_t>(position);
  if (position == 0 || position < -static_cast<lua_Integer>(size)) return 1;
  return size + static_cast<size_t>(position) + 1;
}
size_t EndPosition(lua_Integer position, size_t size) {
  if (position > static_cast<lua_Integer>(size)) return size;
  if (position >= 0) return static_cast<size_t>(position);
  if (position < -static_cast<lua_Integer>(size)) return 0;
  return size + static_cast<size_t>(position) + 1;
}
// lutf8lib.c's u_posrelat.
lua_Integer Utf8Position(lua_Integer position, size_t size) {
  if (position >= 0) return position;
  if (0u - static_cast<size_t>(position) > size) return 0;
  return static_cast<lua_Integer>(size) + position + 1;
}

// --- string -----------------------------------------------------------------

int64_t ByteCost(lua_State* state, int64_t*) {
  const int64_t size = StringSize(state, 1);
  const std::optional<lua_Integer> first = OptInteger(state, 2, 1);
  if (size < 0 || !first.has_value()) return 0;
  const std::optional<lua_Integer> last = OptInteger(state, 3, *first);
  if (!last.has_value()) return 0;
  const size_t from = StartPosition(*first, static_cast<size_t>(size));
  const size_t to = EndPosition(*last, static_cast<size_t>(size));
  return from > to ? 0 : LuaCostProduct(to - from + 1, 2);
}

int64_t CharCost(lua_State* state, int64_t*) { return LuaCostProduct(lua_gettop(state), 4); }

int64_t RepCost(lua_State* state, int64_t*) {
  const int64_t size = StringSize(state, 1);
  const int64_t separator = lua_isnoneornil(state, 3) ? 0 : StringSize(state, 3);
  int is_integer = 0;
  const lua_Integer copies = lua_tointegerx(state, 2, &is_integer);
  if (size < 0 || separator < 0 || !is_integer || copies <= 0) return 0;
  const auto n = static_cast<uint64_t>(copies);
  return LuaCostSum(static_cast<int64_t>(n),
                    LuaCostProduct(n, size + separator) / kCopyBytesPerUnit);
}

int64_t SubCost(lua_State* state, int64_t*) {
  const int64_t size = StringSize(state, 1);
  const std::optional<lua_Integer> first = OptInteger(state, 2, 1);
  const std::optional<lua_Integer> last = OptInteger(state, 3, -1);
  if (size < 0 || !first.has_value() || !last.has_value()) return 0;
  const size_t from = StartPosition(*first, static_cast<size_t>(size));
  const size_t to = EndPosition(*last, static_cast<size_t>(size));
  return from > to ? 1 : 1 + static_cast<int64_t>((to - from + 1) / kCopyBytesPerUnit);
}

int64_t TransformCost(lua_State* state, int64_t*) { return NonNegative(StringSize(state, 1)) / 2; }

// Digits before the point of `value` printed with %f.
int64_t IntegerDigits(lua_State* state, int arg) {
  int is_number = 0;
  const double value = std::fabs(lua_tonumberx(state, arg, &is_number));
  if (!is_number || !std::isfinite(value) || value < 10) return 1;
  return static_cast<int64_t>(std::floor(std::log10(value))) + 1;
}

// str_format's items, each priced by its conversion (see the header).
int64_t FormatCost(lua_State* state, int64_t*) {
  if (lua_type(state, 1) != LUA_TSTRING) return 1;
  size_t size = 0;
  const char* format = lua_tolstring(state, 1, &size);
  const char* const end = format + size;
  const int top = lua_gettop(state);
  int64_t cost = 1 + static_cast<int64_t>(size) / kCopyBytesPerUnit;
  int arg = 1;
  while (format < end) {
    if (*format++ != '%') continue;
    if (format < end && *format == '%') {
      ++format;
      continue;
    }
    if (++arg > top) break;  // Lua's function raises "no value" here
    const char* spec = format;
    while (spec < end && std::strchr("-+ #0123456789.", *spec) != nullptr && *spec != '\0') ++spec;
    int64_t width = 0;
    int64_t precision = -1;
    const char* p = format;
    while (p < spec && std::strchr("-+ #0", *p) != nullptr) ++p;
    for (; p < spec && *p >= '0' && *p <= '9'; ++p)
      width = std::min<int64_t>(width * 10 + (*p - '0'), 1000);
    if (p < spec && *p == '.') {
      precision = 0;
      for (++p; p < spec && *p >= '0' && *p <= '9'; ++p) {
        precision = std::min<int64_t>(precision * 10 + (*p - '0'), 1000);
      }
    }
    const char conversion = spec < end ? *spec : '\0';
    format = spec + 1;
    int64_t item;
    switch (conversion) {
      case 'c':
      case 'd':
      case 'i':
      case 'u':
      case 'o':
      case 'x':
      case 'X':
      case 'p':
        item = 32 + 2 * width;
        break;
      case 'a':
      case 'A':
        item = 64 + 24 * (precision < 0 ? 13 : precision) + 2 * width;
        break;
      case 'e':
      case 'E':
      case 'g':
      case 'G':
        item = 64 + 24 * (precision < 0 ? 6 : precision) + 2 * width;
        break;
      case 'f':
        item = 64 + 24 * ((precision < 0 ? 6 : precision) + IntegerDigits(state, arg)) + 2 * width;
        break;
      case 'q': {
        const int64_t string_size =
            lua_type(state, arg) == LUA_TSTRING ? StringSize(state, arg) : -1;
        item = string_size < 0 ? 64 : 16 + LuaCostProduct(string_size, 2);
        break;
      }
      case 's': {
        const int64_t string_size =
            lua_type(state, arg) == LUA_TSTRING ? StringSize(state, arg) : 0;
        item = 16 + string_size / kCopyBytesPerUnit + 2 * width;
        break;
      }
      default:
        item = 16;  // Lua's function raises "invalid conversion"
        break;
    }
    cost = LuaCostSum(cost, item);
  }
  return cost;
}

int64_t PackCost(lua_State* state, int64_t*) {
  const int top = lua_gettop(state);
  int64_t cost = LuaCostSum(NonNegative(StringSize(state, 1)), top);
  for (int arg = 2; arg <= top; ++arg) {
    if (lua_type(state, arg) == LUA_TSTRING) {
      cost = LuaCostSum(cost, StringSize(state, arg) / kCopyBytesPerUnit);
    }
  }
  return cost;
}

int64_t PackSizeCost(lua_State* state, int64_t*) { return NonNegative(StringSize(state, 1)); }

// Before: the items; *mark = where reading starts (0-based).
int64_t UnpackCost(lua_State* state, int64_t* mark) {
  const int64_t data_size = NonNegative(StringSize(state, 2));
  const std::optional<lua_Integer> start = OptInteger(state, 3, 1);
  *mark = start.has_value()
              ? static_cast<int64_t>(StartPosition(*start, static_cast<size_t>(data_size))) - 1
              : 0;
  return LuaCostProduct(NonNegative(StringSize(state, 1)), 2);
}

// After: the bytes read, up to the next position (the last result).
int64_t UnpackReadCost(lua_State* state, int results, int64_t mark) {
  if (results < 1 || !lua_isinteger(state, -1)) return 0;
  return NonNegative(lua_tointeger(state, -1) - 1 - mark) / kCopyBytesPerUnit;
}

// "10" + 1: the strings are read as numbers.
int64_t ArithmeticCost(lua_State* state, int64_t*) {
  int64_t bytes = 0;
  for (int arg = 1; arg <= 2; ++arg) {
    if (lua_type(state, arg) == LUA_TSTRING) bytes += StringSize(state, arg);
  }
  return bytes / 4;
}

// --- utf8 -------------------------------------------------------------------

int64_t Utf8CharCost(lua_State* state, int64_t*) { return LuaCostProduct(lua_gettop(state), 32); }

// The bytes of s[i..j] (codepoint's default j is i, len's is -1), times `per_byte`.
int64_t Utf8RangeCost(lua_State* state, lua_Integer default_last, int64_t per_byte) {
  const int64_t size = StringSize(state, 1);
  const std::optional<lua_Integer> first_arg = OptInteger(state, 2, 1);
  if (size < 0 || !first_arg.has_value()) return 0;
  const lua_Integer first = Utf8Position(*first_arg, static_cast<size_t>(size));
  const std::optional<lua_Integer> last_arg =
      OptInteger(state, 3, default_last == 0 ? first : default_last);
  if (!last_arg.has_value()) return 0;
  const lua_Integer last =
      std::min<lua_Integer>(Utf8Position(*last_arg, static_cast<size_t>(size)), size);
  if (first < 1 || last < first) return 0;
  return LuaCostProduct(static_cast<uint64_t>(last - first) + 1, per_byte);
}

int64_t CodepointCost(lua_State* state, int64_t*) { return Utf8RangeCost(state, 0, 2); }
int64_t Utf8LenCost(lua_State* state, int64_t*) { return Utf8RangeCost(state, -1, 1); }

// Before: nothing; *mark = the start position (1-based).
int64_t OffsetStart(lua_State* state, int64_t* mark) {
  const int64_t size = NonNegative(StringSize(state, 1));
  int is_integer = 0;
  const lua_Integer n = lua_tointegerx(state, 2, &is_integer);
  const std::optional<lua_Integer> start = OptInteger(state, 3, n >= 0 ? 1 : size + 1);
  *mark = start.has_value() ? Utf8Position(*start, static_cast<size_t>(size)) : 0;
  return 0;
}

// After: the bytes moved over; the whole string when it found nothing.
int64_t OffsetCost(lua_State* state, int results, int64_t mark) {
  if (results >= 1 && lua_isinteger(state, -1)) {
    return 1 + std::abs(static_cast<int64_t>(lua_tointeger(state, -1)) - mark);
  }
  return 1 + NonNegative(StringSize(state, 1));
}

// The iterator utf8.codes returns, called with (s, i).
int64_t CodesStepStart(lua_State* state, int64_t* mark) {
  const std::optional<lua_Integer> position = OptInteger(state, 2, 0);
  *mark = position.value_or(0);
  return 0;
}

// After: the continuation bytes it skipped.
int64_t CodesStepCost(lua_State* state, int results, int64_t mark) {
  if (results == 2 && lua_isinteger(state, -2)) {
    return 1 + NonNegative(lua_tointeger(state, -2) - 1 - mark);
  }
  return 1 + NonNegative(NonNegative(StringSize(state, 1)) - mark);
}

int64_t NoCost(lua_State*, int64_t*) { return 0; }

int64_t WrapCodesIterator(lua_State* state, int results, int64_t mark);

constexpr ChargeSpec kCodesIterator = {ChargeSpec::Table::kUtf8, "(codes iterator)",
                                       &CodesStepStart, &CodesStepCost};

// --- base and math ----------------------------------------------------------

int64_t ToNumberCost(lua_State* state, int64_t*) {
  return lua_type(state, 1) == LUA_TSTRING ? StringSize(state, 1) / 4 : 0;
}

int64_t RawEqualCost(lua_State* state, int64_t*) {
  if (lua_type(state, 1) != LUA_TSTRING || lua_type(state, 2) != LUA_TSTRING) return 0;
  const int64_t size = StringSize(state, 1);
  return size == StringSize(state, 2) ? size / kCopyBytesPerUnit : 0;
}

int64_t ArgumentCost(lua_State* state, int64_t*) { return lua_gettop(state); }

constexpr ChargeSpec kSpecs[] = {
    {ChargeSpec::Table::kString, "byte", &ByteCost, nullptr},
    {ChargeSpec::Table::kString, "char", &CharCost, nullptr},
    {ChargeSpec::Table::kString, "format", &FormatCost, nullptr},
    {ChargeSpec::Table::kString, "lower", &TransformCost, nullptr},
    {ChargeSpec::Table::kString, "pack", &PackCost, nullptr},
    {ChargeSpec::Table::kString, "packsize", &PackSizeCost, nullptr},
    {ChargeSpec::Table::kString, "rep", &RepCost, nullptr},
    {ChargeSpec::Table::kString, "reverse", &TransformCost, nullptr},
    {ChargeSpec::Table::kString, "sub", &SubCost, nullptr},
    {ChargeSpec::Table::kString, "unpack", &UnpackCost, &UnpackReadCost},
    {ChargeSpec::Table::kString, "upper", &TransformCost, nullptr},
    {ChargeSpec::Table::kStringMetatable, "__add", &ArithmeticCost, nullptr},
    {ChargeSpec::Table::kStringMetatable, "__sub", &ArithmeticCost, nullptr},
    {ChargeSpec::Table::kStringMetatable, "__mul", &ArithmeticCost, nullptr},
    {ChargeSpec::Table::kStringMetatable, "__mod", &ArithmeticCost, nullptr},
    {ChargeSpec::Table::kStringMetatable, "__pow", &ArithmeticCost, nullptr},
    {ChargeSpec::Table::kStringMetatable, "__div", &ArithmeticCost, nullptr},
    {ChargeSpec::Table::kStringMetatable, "__idiv", &ArithmeticCost, nullptr},
    {ChargeSpec::Table::kStringMetatable, "__unm", &ArithmeticCost, nullptr},
    {ChargeSpec::Table::kUtf8, "char", &Utf8CharCost, nullptr},
    {ChargeSpec::Table::kUtf8, "codepoint", &CodepointCost, nullptr},
    {ChargeSpec::Table::kUtf8, "codes", &NoCost, &WrapCodesIterator},
    {ChargeSpec::Table::kUtf8, "len", &Utf8LenCost, nullptr},
    {ChargeSpec::Table::kUtf8, "offset", &OffsetStart, &OffsetCost},
    {ChargeSpec::Table::kGlobals, "tonumber", &ToNumberCost, nullptr},
    {ChargeSpec::Table::kGlobals, "rawequal", &RawEqualCost, nullptr},
    {ChargeSpec::Table::kMath, "max", &ArgumentCost, nullptr},
    {ChargeSpec::Table::kMath, "min", &ArgumentCost, nullptr},
};

// Upvalues: 1 the meter (light userdata), 2 Lua's function, 3 the spec.
int ChargedCall(lua_State* state) {
  auto* meter = static_cast<LuaStepMeter*>(lua_touserdata(state, lua_upvalueindex(1)));
  const lua_CFunction original = lua_tocfunction(state, lua_upvalueindex(2));
  const auto* spec = static_cast<const ChargeSpec*>(lua_touserdata(state, lua_upvalueindex(3)));
  int64_t mark = 0;
  const int64_t before = spec->before(state, &mark);
  if (before > 0 && meter != nullptr) meter->ChargeSteps(state, before);
  // Lua's library functions use no upvalues, so calling one from this
  // closure's frame is calling it.
  const int results = original(state);
  if (spec->after != nullptr) {
    const int64_t after = spec->after(state, results, mark);
    if (after > 0 && meter != nullptr) meter->ChargeSteps(state, after);
  }
  return results;
}

// Pushes Lua's function `original` wrapped with `spec`.
void PushCharged(lua_State* state, LuaStepMeter* meter, lua_CFunction original,
                 const ChargeSpec* spec) {
  lua_pushlightuserdata(state, meter);
  lua_pushcfunction(state, original);
  lua_pushlightuserdata(state, const_cast<ChargeSpec*>(spec));
  lua_pushcclosure(state, &ChargedCall, 3);
}

// After utf8.codes: its iterator (3 results: function, s, 0) is charged too.
int64_t WrapCodesIterator(lua_State* state, int results, int64_t) {
  if (results != 3) return 0;
  const lua_CFunction iterator = lua_tocfunction(state, -3);
  if (iterator == nullptr) return 0;
  auto* meter = static_cast<LuaStepMeter*>(lua_touserdata(state, lua_upvalueindex(1)));
  PushCharged(state, meter, iterator, &kCodesIterator);
  lua_replace(state, -4);
  return 0;
}

// Pushes the table `table` of the state.
void PushTable(lua_State* state, ChargeSpec::Table table) {
  switch (table) {
    case ChargeSpec::Table::kGlobals:
      lua_rawgeti(state, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
      return;
    case ChargeSpec::Table::kString:
      lua_getglobal(state, LUA_STRLIBNAME);
      return;
    case ChargeSpec::Table::kUtf8:
      lua_getglobal(state, LUA_UTF8LIBNAME);
      return;
    case ChargeSpec::Table::kMath:
      lua_getglobal(state, LUA_MATHLIBNAME);
      return;
    case ChargeSpec::Table::kStringMetatable:
      lua_pushliteral(state, "");
      if (!lua_getmetatable(state, -1)) lua_pushnil(state);
      lua_remove(state, -2);
      return;
  }
}

}  // namespace

void InstallChargedLuaFunctions(lua_State* state, LuaStepMeter* meter) {
  for (const ChargeSpec& spec : kSpecs) {
    PushTable(state, spec.table);
    CHECK_EQ(lua_type(state, -1), LUA_TTABLE) << "library of " << spec.name << " is not open";
    lua_getfield(state, -1, spec.name);
    const lua_CFunction original = lua_tocfunction(state, -1);
    CHECK(original != nullptr) << spec.name << " is not Lua's C function";
    lua_pop(state, 1);
    PushCharged(state, meter, original, &spec);
    lua_setfield(state, -2, spec.name);
    lua_pop(state, 1);
  }
}

}  // namespace teleclaude::mesh
