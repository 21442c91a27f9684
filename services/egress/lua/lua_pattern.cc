#include "services/egress/lua/lua_pattern.h"

#include <cctype>
#include <cstddef>
#include <cstring>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

#include "lauxlib.h"
#include "lua.h"

// The semantics follow lstrlib.c of Lua 5.4.4 (MIT licence) step by step,
// including where it reads the NUL that ends every Lua string (the subject's
// at its end for %f and %b, the pattern's after its last byte): the results
// must be the same for every input, malformed ones included.

namespace teleclaude::mesh {
namespace {

constexpr int kMaxCaptures = 32;     // LUA_MAXCAPTURES
constexpr int kMaxMatchDepth = 200;  // MAXCCALLS of lstrlib.c
constexpr ptrdiff_t kUnfinished = -1;
constexpr ptrdiff_t kPosition = -2;
constexpr char kEscape = '%';
constexpr std::string_view kSpecials = "^$*+?.([%-";
constexpr size_t kBytesPerStep = 32;  // of a back reference's comparison

int Byte(char c) { return static_cast<unsigned char>(c); }

// Lua's character classes (%a, %d, ...; upper case negates) in the C locale.
bool MatchClass(int c, int class_letter) {
  int match;
  switch (std::tolower(class_letter)) {
    case 'a':
      match = std::isalpha(c);
      break;
    case 'c':
      match = std::iscntrl(c);
      break;
    case 'd':
      match = std::isdigit(c);
      break;
    case 'g':
      match = std::isgraph(c);
      break;
    case 'l':
      match = std::islower(c);
      break;
    case 'p':
      match = std::ispunct(c);
      break;
    case 's':
      match = std::isspace(c);
      break;
    case 'u':
      match = std::isupper(c);
      break;
    case 'w':
      match = std::isalnum(c);
      break;
    case 'x':
      match = std::isxdigit(c);
      break;
    case 'z':
      match = c == 0;
      break;
    default:
      return class_letter == c;
  }
  return std::islower(class_letter) ? match != 0 : match == 0;
}

// `p` is at the '[' of a set, `close` at its ']'.
bool MatchSet(int c, const char* p, const char* close) {
  bool found = true;
  if (p[1] == '^') {
    found = false;
    ++p;
  }
  while (++p < close) {
    if (*p == kEscape) {
      ++p;
      if (MatchClass(c, Byte(*p))) return found;
    } else if (p[1] == '-' && p + 2 < close) {
      p += 2;
      if (Byte(p[-2]) <= c && c <= Byte(*p)) return found;
    } else if (Byte(*p) == c) {
      return found;
    }
  }
  return !found;
}

// string.find's init: 1-based, negative counts from the end, clipped to 1.
size_t StartIndex(lua_Integer init, size_t size) {
  if (init > 0) return static_cast<size_t>(init);
  if (init == 0 || init < -static_cast<lua_Integer>(size)) return 1;
  return size + static_cast<size_t>(init) + 1;
}

LuaStepMeter* MeterOf(lua_State* state) {
  return static_cast<LuaStepMeter*>(lua_touserdata(state, lua_upvalueindex(1)));
}

// One pattern over one subject, with its captures. Thread-compatible.
// Trivially destructible: a gmatch iterator keeps one in a Lua userdata.
class Matcher {
 public:
  // `subject` and `pattern` must outlive the matcher; both end in a NUL
  // byte (they are Lua strings) that is not part of their size.
  Matcher(lua_State* state, LuaStepMeter* meter, const char* subject, size_t subject_size,
          const char* pattern, size_t pattern_size)
      : state_(state),
        steps_(meter),
        subject_(subject),
        subject_end_(subject + subject_size),
        pattern_end_(pattern + pattern_size) {}

  void set_state(lua_State* state) { state_ = state; }
  const char* subject_end() const { return subject_end_; }

  // Matches the pattern from `p` at `s`, with no captures yet. Returns the
  // end of the match, or nullptr.
  const char* MatchAt(const char* s, const char* p) {
    level_ = 0;
    return Match(s, p);
  }

  // Charges the steps not charged yet.
  void Flush() { steps_.Flush(state_); }

  // Pushes every capture of the last match; with none, the whole match
  // s..e unless `s` is null. Returns how many values it pushed.
  int PushCaptures(const char* s, const char* e) {
    const int count = (level_ == 0 && s != nullptr) ? 1 : level_;
    luaL_checkstack(state_, count, "too many captures");
    for (int i = 0; i < count; ++i) PushCapture(i, s, e);
    return count;
  }

  void PushCapture(int i, const char* s, const char* e) {
    const char* capture;
    const ptrdiff_t size = GetCapture(i, s, e, &capture);
    if (size != kPosition) lua_pushlstring(state_, capture, size);
  }

  // Capture `i` (0-based; the whole match s..e when there are no captures
  // and i == 0): returns its size and sets *capture to its start, or for a
  // position capture pushes the position and returns kPosition.
  ptrdiff_t GetCapture(int i, const char* s, const char* e, const char** capture) {
    if (i >= level_) {
      if (i != 0) luaL_error(state_, "invalid capture index %%%d", i + 1);
      *capture = s;
      return e - s;
    }
    const ptrdiff_t size = captures_[i].size;
    *capture = captures_[i].start;
    if (size == kUnfinished) {
      luaL_error(state_, "unfinished capture");
    } else if (size == kPosition) {
      lua_pushinteger(state_, captures_[i].start - subject_ + 1);
    }
    return size;
  }

 private:
  struct Capture {
    const char* start;
    ptrdiff_t size;  // or kUnfinished / kPosition
  };

  void Step(int64_t steps = 1) { steps_.Step(state_, steps); }

  // The recursion depth is not reset between attempts or calls, as in Lua
  // (an error leaves it lowered by the frames it unwound).
  const char* Match(const char* s, const char* p) {
    if (depth_-- == 0) luaL_error(state_, "pattern too complex");
    Step();
    const char* end = MatchHere(s, p);
    ++depth_;
    return end;
  }

  // Match's body; loops where the match continues with the rest of the
  // pattern and recurses only where it may have to come back.
  const char* MatchHere(const char* s, const char* p) {
    while (p != pattern_end_) {
      switch (*p) {
        case '(':
          if (p[1] == ')') return StartCapture(s, p + 2, kPosition);
          return StartCapture(s, p + 1, kUnfinished);
        case ')':
          return EndCapture(s, p + 1);
        case '$':
          if (p + 1 == pattern_end_) return s == subject_end_ ? s : nullptr;
          break;  // an ordinary character
        case kEscape:
          switch (p[1]) {
            case 'b':
              s = MatchBalance(s, p + 2);
              if (s == nullptr) return nullptr;
              p += 4;
              continue;
            case 'f': {
              p += 2;
              if (*p != '[') luaL_error(state_, "missing '[' after '%%f' in pattern");
              const char* set_end = SetOrClassEnd(p);
              const int previous = s == subject_ ? 0 : Byte(s[-1]);
              const int current = s == subject_end_ ? 0 : Byte(*s);
              if (MatchSet(previous, p, set_end - 1) || !MatchSet(current, p, set_end - 1)) {
                return nullptr;
              }
              p = set_end;
              continue;
            }
            default:
              if (!std::isdigit(Byte(p[1]))) break;   // a class like %a
              s = MatchBackReference(s, Byte(p[1]));  // %0-%9
              if (s == nullptr) return nullptr;
              p += 2;
              continue;
          }
          break;
        default:
          break;
      }
      // A single-character class, then an optional repetition suffix.
      const char* suffix = SetOrClassEnd(p);
      if (!SingleMatch(s, p, suffix)) {
        if (*suffix == '*' || *suffix == '?' || *suffix == '-') {
          p = suffix + 1;  // zero repetitions are fine
          continue;
        }
        return nullptr;
      }
      switch (*suffix) {
        case '?':
          if (const char* end = Match(s + 1, suffix + 1)) return end;
          p = suffix + 1;
          continue;
        case '+':
          return MaxExpand(s + 1, p, suffix);
        case '*':
          return MaxExpand(s, p, suffix);
        case '-':
          return MinExpand(s, p, suffix);
        default:
          ++s;
          p = suffix;
          continue;
      }
    }
    return s;
  }

  // The end of the single-character class at `p` (a byte, '.', %x or a
  // [set]).
  const char* SetOrClassEnd(const char* p) {
    switch (*p++) {
      case kEscape:
        if (p == pattern_end_) luaL_error(state_, "malformed pattern (ends with '%%')");
        return p + 1;
      case '[':
        if (*p == '^') ++p;
        do {  // up to the ']', skipping escapes such as %]
          if (p == pattern_end_) luaL_error(state_, "malformed pattern (missing ']')");
          if (*p++ == kEscape && p < pattern_end_) ++p;
        } while (*p != ']');
        return p + 1;
      default:
        return p;
    }
  }

  bool SingleMatch(const char* s, const char* p, const char* class_end) {
    Step();
    if (s >= subject_end_) return false;
    const int c = Byte(*s);
    switch (*p) {
      case '.':
        return true;
      case kEscape:
        return MatchClass(c, Byte(p[1]));
      case '[':
        return MatchSet(c, p, class_end - 1);
      default:
        return Byte(*p) == c;
    }
  }

  const char* MatchBalance(const char* s, const char* p) {
    if (p >= pattern_end_ - 1) {
      luaL_error(state_, "malformed pattern (missing arguments to '%%b')");
    }
    if (s >= subject_end_ || *s != *p) return nullptr;
    const char open = p[0];
    const char close = p[1];
    int depth = 1;
    while (++s < subject_end_) {
      Step();
      if (*s == close) {
        if (--depth == 0) return s + 1;
      } else if (*s == open) {
        ++depth;
      }
    }
    return nullptr;
  }

  const char* MaxExpand(const char* s, const char* p, const char* suffix) {
    ptrdiff_t count = 0;
    while (SingleMatch(s + count, p, suffix)) ++count;
    for (; count >= 0; --count) {  // longest first
      if (const char* end = Match(s + count, suffix + 1)) return end;
    }
    return nullptr;
  }

  const char* MinExpand(const char* s, const char* p, const char* suffix) {
    for (;;) {  // shortest first
      if (const char* end = Match(s, suffix + 1)) return end;
      if (!SingleMatch(s, p, suffix)) return nullptr;
      ++s;
    }
  }

  const char* StartCapture(const char* s, const char* p, ptrdiff_t what) {
    if (level_ >= kMaxCaptures) luaL_error(state_, "too many captures");
    captures_[level_] = {s, what};
    ++level_;
    const char* end = Match(s, p);
    if (end == nullptr) --level_;
    return end;
  }

  const char* EndCapture(const char* s, const char* p) {
    int open = level_ - 1;
    while (open >= 0 && captures_[open].size != kUnfinished) --open;
    if (open < 0) luaL_error(state_, "invalid pattern capture");
    captures_[open].size = s - captures_[open].start;
    const char* end = Match(s, p);
    if (end == nullptr) captures_[open].size = kUnfinished;
    return end;
  }

  // %1-%9 (`digit` is the character): the text of that finished capture
  // again. A position capture has no text and never matches.
  const char* MatchBackReference(const char* s, int digit) {
    const int i = digit - '1';
    if (i < 0 || i >= level_ || captures_[i].size == kUnfinished) {
      luaL_error(state_, "invalid capture index %%%d", i + 1);
    }
    const size_t size = static_cast<size_t>(captures_[i].size);
    if (static_cast<size_t>(subject_end_ - s) < size) return nullptr;
    Step(size / kBytesPerStep);
    return std::memcmp(captures_[i].start, s, size) == 0 ? s + size : nullptr;
  }

  lua_State* state_;
  LuaStepCounter steps_;
  const char* const subject_;
  const char* const subject_end_;
  const char* const pattern_end_;
  int depth_ = kMaxMatchDepth;
  int level_ = 0;  // captures started, finished or not
  Capture captures_[kMaxCaptures];
};

static_assert(std::is_trivially_destructible_v<Matcher>);

// string.find (find) and string.match (!find).
int FindOrMatch(lua_State* state, bool find) {
  size_t subject_size, pattern_size;
  const char* subject = luaL_checklstring(state, 1, &subject_size);
  const char* pattern = luaL_checklstring(state, 2, &pattern_size);
  const size_t init = StartIndex(luaL_optinteger(state, 3, 1), subject_size) - 1;
  if (init > subject_size) {
    luaL_pushfail(state);
    return 1;
  }
  const std::string_view needle(pattern, pattern_size);
  if (find && (lua_toboolean(state, 4) || needle.find_first_of(kSpecials) == needle.npos)) {
    const size_t at = std::string_view(subject, subject_size).find(needle, init);
    if (at != std::string_view::npos) {
      lua_pushinteger(state, static_cast<lua_Integer>(at + 1));
      lua_pushinteger(state, static_cast<lua_Integer>(at + pattern_size));
      return 2;
    }
    luaL_pushfail(state);
    return 1;
  }
  const bool anchored = *pattern == '^';
  if (anchored) {
    ++pattern;
    --pattern_size;
  }
  Matcher matcher(state, MeterOf(state), subject, subject_size, pattern, pattern_size);
  const char* start = subject + init;
  do {
    if (const char* end = matcher.MatchAt(start, pattern)) {
      matcher.Flush();
      if (!find) return matcher.PushCaptures(start, end);
      lua_pushinteger(state, start - subject + 1);
      lua_pushinteger(state, end - subject);
      return matcher.PushCaptures(nullptr, nullptr) + 2;
    }
  } while (start++ < matcher.subject_end() && !anchored);
  matcher.Flush();
  luaL_pushfail(state);
  return 1;
}

int Find(lua_State* state) { return FindOrMatch(state, true); }
int MatchFunction(lua_State* state) { return FindOrMatch(state, false); }

// What a gmatch iterator keeps between calls (in a userdata; its subject
// and pattern are upvalues of the iterator, so they stay alive).
struct GmatchState {
  Matcher matcher;
  const char* next;  // where the next search starts
  const char* pattern;
  const char* last_match;  // end of the last match: an empty match there is skipped
};

int GmatchNext(lua_State* state) {
  auto* gmatch = static_cast<GmatchState*>(lua_touserdata(state, lua_upvalueindex(3)));
  Matcher& matcher = gmatch->matcher;
  matcher.set_state(state);
  for (const char* start = gmatch->next; start <= matcher.subject_end(); ++start) {
    const char* end = matcher.MatchAt(start, gmatch->pattern);
    if (end != nullptr && end != gmatch->last_match) {
      gmatch->next = gmatch->last_match = end;
      matcher.Flush();
      return matcher.PushCaptures(start, end);
    }
  }
  matcher.Flush();
  return 0;
}

int Gmatch(lua_State* state) {
  size_t subject_size, pattern_size;
  const char* subject = luaL_checklstring(state, 1, &subject_size);
  const char* pattern = luaL_checklstring(state, 2, &pattern_size);
  size_t init = StartIndex(luaL_optinteger(state, 3, 1), subject_size) - 1;
  LuaStepMeter* meter = MeterOf(state);
  lua_settop(state, 2);  // subject and pattern become the iterator's upvalues
  void* block = lua_newuserdatauv(state, sizeof(GmatchState), 0);
  if (init > subject_size) init = subject_size + 1;  // nothing to find; no overflow
  new (block) GmatchState{Matcher(state, meter, subject, subject_size, pattern, pattern_size),
                          subject + init, pattern, nullptr};
  lua_pushcclosure(state, &GmatchNext, 3);
  return 1;
}

// Appends gsub's string replacement (argument 3) for the match s..e.
void AddReplacementText(Matcher& matcher, lua_State* state, luaL_Buffer* buffer, const char* s,
                        const char* e) {
  size_t size;
  const char* text = lua_tolstring(state, 3, &size);
  const char* escape;
  while ((escape = static_cast<const char*>(std::memchr(text, kEscape, size))) != nullptr) {
    luaL_addlstring(buffer, text, escape - text);
    const char* p = escape + 1;
    if (*p == kEscape) {
      luaL_addchar(buffer, *p);
    } else if (*p == '0') {
      luaL_addlstring(buffer, s, e - s);
    } else if (std::isdigit(Byte(*p))) {
      const char* capture;
      const ptrdiff_t capture_size = matcher.GetCapture(*p - '1', s, e, &capture);
      if (capture_size == kPosition) {
        luaL_addvalue(buffer);  // the position GetCapture pushed
      } else {
        luaL_addlstring(buffer, capture, capture_size);
      }
    } else {
      luaL_error(state, "invalid use of '%c' in replacement string", kEscape);
    }
    size -= p + 1 - text;
    text = p + 1;
  }
  luaL_addlstring(buffer, text, size);
}

// Appends gsub's replacement of the match s..e, of Lua type `type`.
// Returns whether it differs from the match (a nil or false result of a
// function or table keeps the match).
bool AddReplacement(Matcher& matcher, lua_State* state, luaL_Buffer* buffer, const char* s,
                    const char* e, int type) {
  if (type == LUA_TFUNCTION) {
    lua_pushvalue(state, 3);
    const int arguments = matcher.PushCaptures(s, e);
    lua_call(state, arguments, 1);
  } else if (type == LUA_TTABLE) {
    matcher.PushCapture(0, s, e);
    lua_gettable(state, 3);
  } else {
    AddReplacementText(matcher, state, buffer, s, e);
    return true;
  }
  if (!lua_toboolean(state, -1)) {
    lua_pop(state, 1);
    luaL_addlstring(buffer, s, e - s);
    return false;
  }
  if (!lua_isstring(state, -1)) {
    luaL_error(state, "invalid replacement value (a %s)", luaL_typename(state, -1));
  }
  luaL_addvalue(buffer);
  return true;
}

int Gsub(lua_State* state) {
  size_t subject_size, pattern_size;
  const char* subject = luaL_checklstring(state, 1, &subject_size);
  const char* pattern = luaL_checklstring(state, 2, &pattern_size);
  const int type = lua_type(state, 3);
  const lua_Integer max_replacements =
      luaL_optinteger(state, 4, static_cast<lua_Integer>(subject_size) + 1);
  luaL_argexpected(
      state,
      type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TFUNCTION || type == LUA_TTABLE, 3,
      "string/function/table");
  luaL_Buffer buffer;
  luaL_buffinit(state, &buffer);
  const bool anchored = *pattern == '^';
  if (anchored) {
    ++pattern;
    --pattern_size;
  }
  Matcher matcher(state, MeterOf(state), subject, subject_size, pattern, pattern_size);
  const char* s = subject;
  const char* last_match = nullptr;
  lua_Integer replacements = 0;
  bool changed = false;
  while (replacements < max_replacements) {
    const char* end = matcher.MatchAt(s, pattern);
    if (end != nullptr && end != last_match) {
      ++replacements;
      changed = AddReplacement(matcher, state, &buffer, s, end, type) || changed;
      s = last_match = end;
    } else if (s < matcher.subject_end()) {
      luaL_addchar(&buffer, *s++);
    } else {
      break;
    }
    if (anchored) break;
  }
  matcher.Flush();
  if (changed) {
    luaL_addlstring(&buffer, s, matcher.subject_end() - s);
    luaL_pushresult(&buffer);
  } else {
    lua_pushvalue(state, 1);
  }
  lua_pushinteger(state, replacements);
  return 2;
}

}  // namespace

void InstallLuaPatternFunctions(lua_State* state, int index, LuaStepMeter* meter) {
  index = lua_absindex(state, index);
  const std::pair<const char*, lua_CFunction> functions[] = {
      {"find", &Find}, {"match", &MatchFunction}, {"gmatch", &Gmatch}, {"gsub", &Gsub}};
  for (const auto& [name, function] : functions) {
    lua_pushlightuserdata(state, meter);
    lua_pushcclosure(state, function, 1);
    lua_setfield(state, index, name);
  }
}

}  // namespace teleclaude::mesh
