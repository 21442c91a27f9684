#include "services/egress/lua/lua_cartridge.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "common/base/strings.h"
#include "common/envelope/json_codec.h"
#include "common/envelope/stream_codec.h"
#include "common/json/json_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/envelope/wire_fixtures.h"
#include "tests/support/thread_cpu.h"

namespace teleclaude::mesh {
namespace {

using ::testing::HasSubstr;
using Verdict = Cartridge::Verdict;

EventEnvelope MakeEvent() {
  absl::StatusOr<EventEnvelope> event = DecodeEnvelopeJson(R"({
    "event": "build.finished", "version": 1, "source": "alpha",
    "timestamp": "2025-03-01T12:34:56.789012Z", "idempotency_key": "k-1",
    "level": 2, "domain": "ci", "entity": "job/7", "description": "build done",
    "visibility": "cluster",
    "payload": {"name": "x", "count": 3, "ratio": 0.5, "whole": 2.0,
                "big": 123456789012345678901234, "neg": -9223372036854775809,
                "flag": true, "none": null, "items": [1, 2, {"b": 1, "a": 2}],
                "empty_list": [], "empty_obj": {}, "text": "h\u00e9 \"q\"\n"},
    "actions": {"retry": {"description": "Retry", "produces": "build.retry"}},
    "terminal_when": "build.retry",
    "resolution_shape": {"outcome": "string"},
    "zeta": 1, "alpha": "a", "huge": 99999999999999999999999
  })");
  EXPECT_TRUE(event.ok()) << event.status();
  return *event;
}

std::unique_ptr<Cartridge> MustLoad(std::string source, LuaLimits limits = {},
                                    std::string entry_point = "process",
                                    std::string name = "tagger") {
  LuaCartridgeSpec spec;
  spec.name = std::move(name);
  spec.source = std::move(source);
  spec.entry_point = std::move(entry_point);
  spec.limits = limits;
  absl::StatusOr<std::unique_ptr<Cartridge>> cartridge = LoadLuaCartridge(spec);
  EXPECT_TRUE(cartridge.ok()) << cartridge.status();
  return cartridge.ok() ? std::move(*cartridge) : nullptr;
}

absl::Status LoadError(std::string source, std::string entry_point = "process") {
  LuaCartridgeSpec spec;
  spec.limits.wall_time = absl::Seconds(10);  // the instruction budget is what stops a loop
  spec.name = "bad";
  spec.source = std::move(source);
  spec.entry_point = std::move(entry_point);
  return LoadLuaCartridge(spec).status();
}

absl::StatusOr<Verdict> ProcessOnce(Cartridge& cartridge, EventEnvelope& event) {
  CartridgeContext context;
  return cartridge.Process(event, context);
}

// ---------------------------------------------------------------------------
// ABI

TEST(LuaCartridgeTest, IdentityKeepsEveryFieldExactly) {
  auto cartridge = MustLoad("function process(event) return event end");
  EventEnvelope event = MakeEvent();
  const EventEnvelope before = event;
  ASSERT_EQ(ProcessOnce(*cartridge, event).value(), Verdict::kContinue);
  EXPECT_EQ(EncodeEnvelopeJson(event), EncodeEnvelopeJson(before));
  EXPECT_EQ(event, before);
}

TEST(LuaCartridgeTest, IdentityRoundTripsEveryWireFixtureByteExact) {
  auto cases = testing::LoadValidCases();
  ASSERT_TRUE(cases.ok()) << cases.status();
  auto cartridge = MustLoad("function process(event) return event end");
  for (const auto& c : *cases) {
    absl::StatusOr<EventEnvelope> event = DecodeEnvelopeJson(c.input_json);
    ASSERT_TRUE(event.ok()) << c.name << ": " << event.status();
    const EventEnvelope before = *event;
    absl::StatusOr<Verdict> verdict = ProcessOnce(*cartridge, *event);
    ASSERT_TRUE(verdict.ok()) << c.name << ": " << verdict.status();
    EXPECT_EQ(EncodeEnvelopeJson(*event), c.model_dump_json) << c.name;
    EXPECT_EQ(EncodeEnvelopeStream(*event), EncodeEnvelopeStream(before)) << c.name;
  }
}

TEST(LuaCartridgeTest, SeesFieldsWithTheirLuaTypes) {
  auto cartridge = MustLoad(R"(
    function process(e)
      local p = e.payload
      e.payload = {
        types = table.concat({math.type(e.version), math.type(e.level), type(e.timestamp),
                              math.type(p.count), math.type(p.ratio), math.type(p.whole),
                              type(p.big), tostring(p.none == json.null), type(p.items),
                              tostring(#p.items), e.visibility, e.timestamp, e.entity,
                              e.idempotency_key, tostring(e.zeta), e.alpha,
                              e.actions.retry.produces, e.resolution_shape.outcome}, " "),
        big = p.big,
      }
      return e
    end)");
  EventEnvelope event = MakeEvent();
  ASSERT_EQ(ProcessOnce(*cartridge, event).value(), Verdict::kContinue);
  EXPECT_EQ(event.payload_json,
            R"({"big":"123456789012345678901234","types":"integer integer string integer float )"
            R"(float string true table 3 cluster 2025-03-01T12:34:56.789012Z job/7 k-1 1 a )"
            R"(build.retry string"})");
}

TEST(LuaCartridgeTest, AddsPayloadFieldsKeepingIntegersAndOrder) {
  auto cartridge = MustLoad(R"(
    function process(e)
      e.payload.seen_by = "lua"
      e.payload.count = e.payload.count + 1
      e.payload.half = e.payload.count / 2
      e.payload.product = e.payload.count * 1000000000000
      e.payload.items[3].c = json.null
      e.payload.flag = nil
      return e
    end)");
  EventEnvelope event = MakeEvent();
  ASSERT_EQ(ProcessOnce(*cartridge, event).value(), Verdict::kContinue);
  EXPECT_EQ(event.payload_json,
            R"({"name":"x","count":4,"ratio":0.5,"whole":2.0,)"
            R"("big":123456789012345678901234,"neg":-9223372036854775809,"none":null,)"
            R"("items":[1,2,{"b":1,"a":2,"c":null}],"empty_list":[],"empty_obj":{},)"
            R"("text":"hé \"q\"\n","half":2.0,"product":4000000000000,"seen_by":"lua"})");
  EXPECT_EQ(event.event, "build.finished");
  EXPECT_EQ(event.level, Level::kWorkflow);
}

TEST(LuaCartridgeTest, ChangesEnvelopeFieldsAndExtras) {
  auto cartridge = MustLoad(R"(
    function process(e)
      e.level = 3
      e.visibility = "public"
      e.description = "changed"
      e.entity = nil
      e.timestamp = "2025-03-01T04:34:56-08:00"
      e.zeta = nil
      e.new_extra = {1, 2.5, "x"}
      e.actions.retry.outcome_shape = {ok = "bool"}
      return e
    end)");
  EventEnvelope event = MakeEvent();
  ASSERT_EQ(ProcessOnce(*cartridge, event).value(), Verdict::kContinue);
  EXPECT_EQ(event.level, Level::kBusiness);
  EXPECT_EQ(event.visibility, Visibility::kPublic);
  EXPECT_EQ(event.description, "changed");
  EXPECT_FALSE(event.entity.has_value());
  EXPECT_EQ(event.timestamp.utc_offset_seconds, -8 * 3600);
  EXPECT_EQ(
      *event.actions_json,
      R"({"retry":{"description":"Retry","produces":"build.retry","outcome_shape":{"ok":"bool"}}})");
  ASSERT_EQ(event.extras.size(), 3u);
  EXPECT_EQ(event.extras[0], (std::pair<std::string, std::string>{"alpha", "\"a\""}));
  EXPECT_EQ(event.extras[1],
            (std::pair<std::string, std::string>{"huge", "99999999999999999999999"}));
  EXPECT_EQ(event.extras[2], (std::pair<std::string, std::string>{"new_extra", "[1,2.5,\"x\"]"}));
}

TEST(LuaCartridgeTest, ReturningNilDropsTheEvent) {
  auto cartridge = MustLoad(R"(
    function process(e)
      if e.payload.count == 3 then return nil end
      return e
    end)");
  EventEnvelope event = MakeEvent();
  const EventEnvelope before = event;
  EXPECT_EQ(ProcessOnce(*cartridge, event).value(), Verdict::kDrop);
  EXPECT_EQ(event, before);
}

TEST(LuaCartridgeTest, AnotherEntryPoint) {
  auto cartridge = MustLoad(R"(
    function process(e) return nil end
    function handle(e) e.payload.handled = true return e end)",
                            {}, "handle");
  EventEnvelope event = MakeEvent();
  ASSERT_EQ(ProcessOnce(*cartridge, event).value(), Verdict::kContinue);
  EXPECT_THAT(event.payload_json, HasSubstr(R"("handled":true)"));
  EXPECT_EQ(cartridge->Name(), "tagger");
}

TEST(LuaCartridgeTest, KeepsGlobalStateBetweenCalls) {
  auto cartridge = MustLoad(R"(
    local seen = 0
    function process(e) seen = seen + 1 e.payload.seen = seen return e end)");
  for (int i = 1; i <= 3; ++i) {
    EventEnvelope event = MakeEvent();
    ASSERT_EQ(ProcessOnce(*cartridge, event).value(), Verdict::kContinue);
    EXPECT_THAT(event.payload_json, HasSubstr(Cat("\"seen\":", i)));
  }
}

TEST(LuaCartridgeTest, EmitAppendsAMarkedEvent) {
  auto cartridge = MustLoad(R"(
    function process(e)
      emit{event = "lua.noticed", level = 1, visibility = "local", domain = "ci",
           description = "noticed " .. e.event, payload = {of = e.event, n = 2}}
      return e
    end)");
  EventEnvelope event = MakeEvent();
  CartridgeContext context;
  ASSERT_EQ(cartridge->Process(event, context).value(), Verdict::kContinue);
  ASSERT_EQ(context.emitted.size(), 1u);
  const EventEnvelope& emitted = context.emitted[0];
  EXPECT_EQ(emitted.event, "lua.noticed");
  EXPECT_EQ(emitted.level, Level::kOperational);
  EXPECT_EQ(emitted.visibility, Visibility::kLocal);
  EXPECT_EQ(emitted.domain, "ci");
  EXPECT_EQ(emitted.description, "noticed build.finished");
  EXPECT_EQ(emitted.source, "");
  EXPECT_EQ(emitted.version, 1);
  EXPECT_EQ(emitted.payload_json, R"({"n":2,"of":"build.finished","_emitted_by":"tagger"})");
}

TEST(LuaCartridgeTest, EmitIsLimitedPerCallAndWithdrawnOnFailure) {
  LuaLimits limits;
  limits.max_emits_per_call = 3;
  auto cartridge = MustLoad(R"(
    function process(e)
      for i = 1, e.payload.count + 1 do emit{event = "lua.tick", level = 0} end
      return e
    end)",
                            limits);
  EventEnvelope event = MakeEvent();  // count = 3: four emits
  const EventEnvelope before = event;
  CartridgeContext context;
  context.emitted.push_back(MakeEvent());  // someone else's
  absl::StatusOr<Verdict> verdict = cartridge->Process(event, context);
  EXPECT_EQ(verdict.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(verdict.status().message(), HasSubstr("emit: at most 3 emits per call"));
  EXPECT_EQ(context.emitted.size(), 1u);
  EXPECT_EQ(event, before);
}

TEST(LuaCartridgeTest, EmitIsRefusedAtTheDepthLimit) {
  auto cartridge = MustLoad(R"(
    function process(e) emit{event = "lua.again", level = 0} return e end)");
  EventEnvelope event = MakeEvent();
  CartridgeContext context;
  context.emit_depth = 2;
  ASSERT_TRUE(cartridge->Process(event, context).ok());
  EXPECT_EQ(context.emitted.size(), 1u);
  CartridgeContext deep;
  deep.emit_depth = 3;
  absl::StatusOr<Verdict> verdict = cartridge->Process(event, deep);
  EXPECT_THAT(verdict.status().message(), HasSubstr("emit: depth limit of 3 reached"));
  EXPECT_TRUE(deep.emitted.empty());
}

TEST(LuaCartridgeTest, EmitChecksItsArguments) {
  auto cartridge = MustLoad(R"(
    function process(e)
      local m = e.payload.name
      if m == "unknown" then emit{event = "x", level = 1, colour = "red"}
      elseif m == "nolevel" then emit{event = "x"}
      elseif m == "nonstring" then emit("x")
      else emit{event = "x", level = 1, visibility = "galaxy"} end
      return e
    end)");
  const std::pair<std::string, std::string> cases[] = {
      {"unknown", "emit: unknown field \"colour\""},
      {"nolevel", "emit: level: field required"},
      {"nonstring", "emit: expects a table"},
      {"bad", "emit: visibility: must be one of local, cluster, public, got \"galaxy\""},
  };
  for (const auto& [name, message] : cases) {
    EventEnvelope event = MakeEvent();
    event.payload_json = Cat(R"({"name":")", name, R"("})");
    absl::StatusOr<Verdict> verdict = ProcessOnce(*cartridge, event);
    EXPECT_THAT(verdict.status().message(), HasSubstr(message)) << name;
  }
}

TEST(LuaCartridgeTest, EmitOutsideProcessIsRefused) {
  absl::Status status =
      LoadError(R"(emit{event = "x", level = 1} function process(e) return e end)");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("emit: only available while process() runs"));
}

// ---------------------------------------------------------------------------
// What comes back must be an envelope.

struct BadReturn {
  std::string body;
  std::string message;
};

class LuaCartridgeBadReturnTest : public ::testing::TestWithParam<BadReturn> {};

TEST_P(LuaCartridgeBadReturnTest, FailsNamingTheFieldAndLeavesTheEvent) {
  auto cartridge = MustLoad(Cat("function process(e) ", GetParam().body, " end"));
  EventEnvelope event = MakeEvent();
  const EventEnvelope before = event;
  absl::StatusOr<Verdict> verdict = ProcessOnce(*cartridge, event);
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.status().code(), absl::StatusCode::kInvalidArgument) << verdict.status();
  EXPECT_THAT(verdict.status().message(), HasSubstr(GetParam().message));
  EXPECT_EQ(event, before);
}

INSTANTIATE_TEST_SUITE_P(
    Conversions, LuaCartridgeBadReturnTest,
    ::testing::Values(
        BadReturn{
            "e.level = 9 return e",
            "returned event: level: must be an integer 0-3 (INFRASTRUCTURE..BUSINESS), got 9"},
        BadReturn{"e.level = 1.5 return e", "level: must be an integer 0-3"},
        BadReturn{"e.level = '2' return e", "level: must be an integer 0-3"},
        BadReturn{"e.visibility = 'galaxy' return e",
                  "returned event: visibility: must be one of local, cluster, public, got "
                  "\"galaxy\""},
        BadReturn{"e.event = '' return e", "returned event: event: must be a non-empty string"},
        BadReturn{"e.source = nil return e", "returned event: source: field required"},
        BadReturn{"e.timestamp = 'yesterday' return e", "returned event: timestamp:"},
        BadReturn{"e.version = 'one' return e", "returned event: version: must be an integer"},
        BadReturn{"return 42", "process must return the event table or nil, got number"},
        BadReturn{"return", "process must return the event table or nil, got nothing"},
        BadReturn{"e.payload = {1, 2} return e",
                  "payload: must be a table with string keys (a JSON object), got an array"},
        BadReturn{"e.payload = 'x' return e",
                  "payload: must be a table (a JSON object), got string"},
        BadReturn{"e.payload.a = {b = {}} e.payload.a.b.c = e.payload.a return e",
                  "returned event: cyclic table at payload.a.b.c"},
        BadReturn{"e.payload.items[2] = e.payload.items return e",
                  "cyclic table at payload.items[2]"},
        BadReturn{"e.payload.m = {[1.5] = 1} return e",
                  "payload.m: key 1.5 is not a string (JSON object keys are strings"},
        BadReturn{"e.payload.m = {[true] = 1} return e", "payload.m: key true is not a string"},
        BadReturn{"e.payload.m = {1, 2, x = 3} return e",
                  "payload.m: table mixes string keys and integer keys"},
        BadReturn{"e.payload.m = {[1] = 1, [3] = 3} return e",
                  "payload.m: integer keys must be 1..n without holes"},
        BadReturn{"e.payload.f = print return e", "payload.f: cannot convert a function to JSON"},
        BadReturn{"e.payload.s = '\\xff' return e", "payload.s: string is not valid UTF-8"},
        BadReturn{"e[1] = 'x' return e", "returned event: key 1 is not a string"},
        BadReturn{"e.actions.retry.produces = nil return e",
                  "returned event: actions.retry.produces: field required"},
        BadReturn{"e.resolution_shape.outcome = 5 return e",
                  "returned event: resolution_shape.outcome: expected a string"},
        BadReturn{"local t = {} for i = 1, 300 do t = {t} end e.payload.deep = t return e",
                  "nested deeper than"}));

TEST(LuaCartridgeTest, MetatablesDoNotChangeWhatIsRead) {
  auto cartridge = MustLoad(R"(
    function process(e)
      setmetatable(e, {__index = function() error("trap") end})
      setmetatable(e.payload, {__index = function() error("trap") end,
                               __pairs = function() error("trap") end})
      e.payload.x = 1
      return e
    end)");
  EventEnvelope event = MakeEvent();
  ASSERT_EQ(ProcessOnce(*cartridge, event).value(), Verdict::kContinue);
  EXPECT_THAT(event.payload_json, HasSubstr(R"("x":1})"));
}

// ---------------------------------------------------------------------------
// Loading

TEST(LuaCartridgeTest, CompileErrorIsInvalidArgumentWithTheCompilerMessage) {
  absl::Status status = LoadError("function process(e) return e en");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("lua compile error: bad:1:"));
  EXPECT_THAT(status.message(), HasSubstr("expected"));
}

TEST(LuaCartridgeTest, BytecodeIsRefused) {
  absl::Status status = LoadError(std::string("\x1bLua\x54\x00", 6) + "junk");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("attempt to load a binary chunk"));
}

TEST(LuaCartridgeTest, MissingEntryPointIsRefused) {
  absl::Status status = LoadError("function process(e) return e end", "handle");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("entry point 'handle' is not a function (got nil)"));
}

TEST(LuaCartridgeTest, TopLevelErrorsAndLimitsAreRefused) {
  EXPECT_THAT(LoadError("error('boom')").message(),
              HasSubstr("running the top-level code failed: bad:1: boom"));
  EXPECT_THAT(
      LoadError("while true do end").message(),
      HasSubstr("running the top-level code failed: instruction budget of 1000000 exceeded"));
}

// ---------------------------------------------------------------------------
// Sandbox

TEST(LuaCartridgeTest, OnlySafeLibrariesAreThere) {
  auto cartridge = MustLoad(R"(
    function process(e)
      local names = {"os", "io", "load", "loadstring", "loadfile", "dofile", "require",
                     "collectgarbage", "debug", "package", "coroutine", "warn"}
      local found = {}
      for _, n in ipairs(names) do found[#found + 1] = n .. "=" .. type(_G[n]) end
      found[#found + 1] = "string.dump=" .. type(string.dump)
      found[#found + 1] = "dump via metatable=" .. type(("").dump)
      for _, n in ipairs({"string", "table", "math", "utf8", "pcall", "setmetatable"}) do
        found[#found + 1] = n .. "=" .. type(_G[n])
      end
      e.payload = {found = table.concat(found, " ")}
      return e
    end)");
  EventEnvelope event = MakeEvent();
  ASSERT_EQ(ProcessOnce(*cartridge, event).value(), Verdict::kContinue);
  EXPECT_EQ(event.payload_json,
            R"({"found":"os=nil io=nil load=nil loadstring=nil loadfile=nil dofile=nil )"
            R"(require=nil collectgarbage=nil debug=nil package=nil coroutine=nil warn=nil )"
            R"(string.dump=nil dump via metatable=nil string=table table=table math=table )"
            R"(utf8=table pcall=function setmetatable=function"})");
}

TEST(LuaCartridgeTest, ReachingForUnsafeFunctionsFails) {
  const std::pair<std::string, std::string> cases[] = {
      {"os.execute('touch /tmp/lua-pwned')", "global 'os'"},
      {"io.open('/etc/passwd')", "global 'io'"},
      {"load('return 1')()", "global 'load'"},
      {"require('os')", "global 'require'"},
      {"debug.getinfo(1)", "global 'debug'"},
      {"string.dump(process)", "field 'dump'"},
      {"dofile('/etc/passwd')", "global 'dofile'"},
  };
  for (const auto& [code, message] : cases) {
    auto cartridge = MustLoad(Cat("function process(e) ", code, " return e end"));
    EventEnvelope event = MakeEvent();
    absl::StatusOr<Verdict> verdict = ProcessOnce(*cartridge, event);
    EXPECT_EQ(verdict.status().code(), absl::StatusCode::kAborted) << code;
    EXPECT_THAT(verdict.status().message(), HasSubstr(message)) << code;
  }
}

TEST(LuaCartridgeTest, PrintIsHarmless) {
  auto cartridge = MustLoad(R"(
    function process(e) for i = 1, 100 do print("line", i, {}, nil) end return e end)");
  EventEnvelope event = MakeEvent();
  EXPECT_EQ(ProcessOnce(*cartridge, event).value(), Verdict::kContinue);
}

// ---------------------------------------------------------------------------
// Limits, and containment: after each hostile call the same cartridge still
// processes a normal event.

constexpr char kHostile[] = R"(
  hoard = {}
  function process(e)
    local mode = e.payload.mode
    if mode == "loop" then while true do end
    elseif mode == "pcall_loop" then
      while true do pcall(function() while true do end end) end
    elseif mode == "string_ops" then
      local s = string.rep("x", 10000)
      while true do s = s:upper():lower() end
    elseif mode == "backtracking" then
      local r = ("a"):rep(5000):find(("a*"):rep(3) .. "b")
    elseif mode == "lazy_gsub" then
      local r = string.rep("a", 1e6):gsub(".-b", "x")
    elseif mode == "rep_bomb" then local s = string.rep("x", 1e9)
    elseif mode == "concat_bomb" then
      local s = "x" while true do s = s .. s end
    elseif mode == "recursion" then
      local function f(n) return 1 + f(n + 1) end
      f(1)
    elseif mode == "c_recursion" then
      local t = setmetatable({}, {})
      getmetatable(t).__index = function(t, k) return t[k] end
      return t.x
    elseif mode == "table_growth" then
      local t = {} for i = 1, 1e9 do t[i] = i end
    elseif mode == "global_hoard" then
      for i = 1, 1e9 do hoard[#hoard + 1] = {i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i} end
    elseif mode == "error" then error("deliberate")
    elseif mode == "bad_level" then e.level = 9 return e
    end
    e.payload.ok = true
    return e
  end)";

EventEnvelope ModeEvent(std::string_view mode) {
  EventEnvelope event = MakeEvent();
  event.payload_json = Cat(R"({"mode":")", mode, R"("})");
  return event;
}

void ExpectStillWorks(Cartridge& cartridge, std::string_view after) {
  EventEnvelope event = ModeEvent("normal");
  absl::StatusOr<Verdict> verdict = ProcessOnce(cartridge, event);
  ASSERT_TRUE(verdict.ok()) << "after " << after << ": " << verdict.status();
  EXPECT_EQ(*verdict, Verdict::kContinue);
  EXPECT_EQ(event.payload_json, R"({"mode":"normal","ok":true})") << "after " << after;
}

struct Hostile {
  std::string mode;
  absl::StatusCode code;
  std::string message;
};

class LuaCartridgeLimitTest : public ::testing::TestWithParam<Hostile> {};

TEST_P(LuaCartridgeLimitTest, IsContainedAndTheCartridgeGoesOn) {
  LuaLimits limits;
  limits.wall_time = absl::Seconds(1);  // the other limits are what is tested
  if (GetParam().mode == "string_ops") {
    limits.instructions = int64_t{1} << 40;
    limits.wall_time = absl::Milliseconds(30);
  }
  auto cartridge = MustLoad(kHostile, limits);
  ExpectStillWorks(*cartridge, "start");
  EventEnvelope event = ModeEvent(GetParam().mode);
  const EventEnvelope before = event;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Verdict> verdict = ProcessOnce(*cartridge, event);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.status().code(), GetParam().code) << verdict.status();
  EXPECT_THAT(verdict.status().message(), HasSubstr(GetParam().message));
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  EXPECT_EQ(event, before);
  ExpectStillWorks(*cartridge, GetParam().mode);
  ExpectStillWorks(*cartridge, GetParam().mode);
}

INSTANTIATE_TEST_SUITE_P(
    Hostile, LuaCartridgeLimitTest,
    ::testing::Values(Hostile{"loop", absl::StatusCode::kResourceExhausted,
                              "instruction budget of 1000000 exceeded"},
                      Hostile{"pcall_loop", absl::StatusCode::kResourceExhausted,
                              "instruction budget of 1000000 exceeded"},
                      Hostile{"string_ops", absl::StatusCode::kResourceExhausted,
                              "wall-time budget of 30ms exceeded"},
                      // One string function call that backtracks for minutes
                      // in Lua's own matcher.
                      Hostile{"backtracking", absl::StatusCode::kResourceExhausted,
                              "instruction budget of 1000000 exceeded"},
                      Hostile{"lazy_gsub", absl::StatusCode::kResourceExhausted,
                              "instruction budget of 1000000 exceeded"},
                      // Charged before it copies anything (lua_charged_functions.h).
                      Hostile{"rep_bomb", absl::StatusCode::kResourceExhausted,
                              "instruction budget of 1000000 exceeded"},
                      Hostile{"concat_bomb", absl::StatusCode::kResourceExhausted,
                              "memory limit of 8388608 bytes exceeded"},
                      // Lua-to-Lua recursion grows the Lua stack until the memory cap.
                      Hostile{"recursion", absl::StatusCode::kResourceExhausted,
                              "memory limit of 8388608 bytes exceeded"},
                      Hostile{"c_recursion", absl::StatusCode::kAborted, "stack overflow"},
                      Hostile{"table_growth", absl::StatusCode::kResourceExhausted,
                              "memory limit of 8388608 bytes exceeded"},
                      Hostile{"global_hoard", absl::StatusCode::kResourceExhausted,
                              "memory limit of 8388608 bytes exceeded"},
                      Hostile{"error", absl::StatusCode::kAborted, "tagger:"},
                      Hostile{"bad_level", absl::StatusCode::kInvalidArgument,
                              "level: must be an integer 0-3"}),
    [](const ::testing::TestParamInfo<Hostile>& info) { return info.param.mode; });

TEST(LuaCartridgeTest, InstructionBudgetStopsAnInfiniteLoopQuickly) {
  LuaLimits limits;
  limits.instructions = 10'000;
  auto cartridge = MustLoad(kHostile, limits);
  EventEnvelope event = ModeEvent("loop");
  const double cpu_start = testing::ThreadCpuMilliseconds();
  absl::StatusOr<Verdict> verdict = ProcessOnce(*cartridge, event);
  EXPECT_LT(testing::ThreadCpuMilliseconds() - cpu_start, 500);
  EXPECT_EQ(verdict.status().message(), "instruction budget of 10000 exceeded");
}

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

TEST(LuaCartridgeTest, ResidentMemoryStaysBoundedOverManyHostileCalls) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer keeps freed memory in quarantine; its leak checker covers this";
#endif
  LuaLimits limits;
  limits.instructions = 20'000;
  limits.memory_bytes = 1 << 20;
  limits.wall_time = absl::Milliseconds(100);
  auto cartridge = MustLoad(kHostile, limits);
  auto* lua = static_cast<LuaCartridge*>(cartridge.get());
  const char* modes[] = {"loop",      "backtracking", "rep_bomb",     "concat_bomb",
                         "recursion", "c_recursion",  "table_growth", "global_hoard",
                         "error",     "bad_level",    "normal"};
  auto run_batch = [&](int calls) {
    for (int i = 0; i < calls; ++i) {
      EventEnvelope event = ModeEvent(modes[i % std::size(modes)]);
      (void)ProcessOnce(*cartridge, event);
    }
  };
  run_batch(100);  // warm up allocator pools
  const int64_t before = ResidentBytes();
  run_batch(1000);
  const int64_t after = ResidentBytes();
  EXPECT_LT(after - before, int64_t{32} << 20) << "RSS grew from " << before << " to " << after;
  EXPECT_GT(lua->rebuilds(), 500);
  EXPECT_LT(lua->memory_in_use(), size_t{1} << 20);
  ExpectStillWorks(*cartridge, "1000 hostile calls");
}

}  // namespace
}  // namespace teleclaude::mesh

namespace teleclaude::mesh {
namespace {

TEST(LuaCartridgeTest, FinalizersAndCloseHandlersCannotEscapeTheLimits) {
  LuaLimits limits;
  limits.instructions = 50'000;
  {
    auto cartridge = MustLoad(R"(
      function process(e)
        local mode = e.payload.mode
        if mode == "gc" then
          setmetatable({}, {__gc = function() while true do end end})
        elseif mode == "close" then
          local guard <close> = setmetatable({}, {__close = function() while true do end end})
          error("first")
        end
        e.payload.ok = true
        return e
      end)",
                              limits);
    EventEnvelope event = ModeEvent("gc");
    EXPECT_THAT(ProcessOnce(*cartridge, event).status().message(),
                HasSubstr("setmetatable: __gc metamethods are not allowed in cartridges"));
    for (const char* mode : {"close", "normal", "close"}) {
      EventEnvelope event = ModeEvent(mode);
      const auto start = std::chrono::steady_clock::now();
      absl::StatusOr<Verdict> verdict = ProcessOnce(*cartridge, event);
      EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1)) << mode;
      if (std::string_view(mode) == "close") {
        EXPECT_EQ(verdict.status().code(), absl::StatusCode::kResourceExhausted)
            << verdict.status();
      }
    }
    ExpectStillWorks(*cartridge, "finalizers");
  }
}

TEST(LuaCartridgeTest, HugeErrorMessagesAreCut) {
  auto cartridge = MustLoad(R"(function process(e) error(string.rep("x", 100000)) end)");
  EventEnvelope event = MakeEvent();
  absl::StatusOr<Verdict> verdict = ProcessOnce(*cartridge, event);
  EXPECT_EQ(verdict.status().code(), absl::StatusCode::kAborted);
  EXPECT_LE(verdict.status().message().size(), 2100u);
}

}  // namespace
}  // namespace teleclaude::mesh
