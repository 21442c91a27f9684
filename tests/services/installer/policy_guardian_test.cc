#include "services/installer/policy_guardian.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/installer/guardian_chain.h"
#include "tests/services/egress/lua/lua_hostile_cartridges.h"

namespace teleclaude::mesh {
namespace {

using ::testing::HasSubstr;

CartridgeCandidate Candidate(std::string source, std::string author = "alice") {
  CartridgeCandidate c;
  c.name = "demo";
  c.version = "1";
  c.author = std::move(author);
  c.runtime = "lua";
  c.source = std::move(source);
  return c;
}

TEST(PolicyGuardianTest, ApprovesCleanCode) {
  PolicyGuardian guardian({});
  auto v = guardian.Evaluate(Candidate(R"(
-- uses os.time in a comment only, and "os.execute" in a string
local M = {}
function process(event)
  event.payload.io = "x"          -- a field called io is fine
  local s = string.format("%d", 1) .. [[ load(os) ]]
  return setmetatable({}, {__index = M}) and event
end
)"));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->approved) << v->reason;
  EXPECT_EQ(v->decided_by, "guardian:policy");
}

TEST(PolicyGuardianTest, DeniesOsExecuteNamingTheLine) {
  PolicyGuardian guardian({});
  auto v = guardian.Evaluate(Candidate("function process(e)\n  os.execute('rm -rf /')\nend\n"));
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->approved);
  EXPECT_THAT(v->reason, HasSubstr("line 2: uses `os`"));
}

TEST(PolicyGuardianTest, DeniesEverySandboxEscape) {
  for (const char* code :
       {"io.open('x')", "local r = require('socket')", "load('x')()", "loadstring('x')",
        "dofile('x')", "loadfile('x')", "debug.getinfo(1)", "package.loadlib('x')",
        "setmetatable(_G, {})", "collectgarbage()", "string.dump(f)", "local s = string; s.dump(f)",
        "_ENV.x = 1", "local o = os", "getmetatable('').__index", "x = 1 .. os.getenv('A')",
        "--[[ comment ]] os.exit()", "local t = [==[ ]] ]==] io.write(1)"}) {
    auto v = PolicyGuardian::ScanLuaSource(code);
    EXPECT_TRUE(v.has_value()) << code;
  }
}

// What the sandbox cannot hold to a call's limits: coroutines (it has
// none) and finalizers (it refuses them at run time).
TEST(PolicyGuardianTest, DeniesWhatTheSandboxCannotBound) {
  const std::pair<const char*, const char*> cases[] = {
      {"local co = coroutine.wrap(function() end)", "line 1: uses `coroutine`"},
      {"local c = coroutine", "line 1: uses `coroutine`"},
      {"x = 1\nsetmetatable({}, {__gc = function() while true do end end})", "line 2: uses `__gc`"},
      {"local mt = {}\nmt.__gc = print", "line 2: uses `__gc`"},
  };
  PolicyGuardian guardian({});
  for (const auto& [code, reason] : cases) {
    auto v = guardian.Evaluate(Candidate(code));
    ASSERT_TRUE(v.ok());
    EXPECT_FALSE(v->approved) << code;
    EXPECT_THAT(v->reason, HasSubstr(reason)) << code;
  }
  // A field of that name is not the library.
  EXPECT_FALSE(PolicyGuardian::ScanLuaSource("event.payload.coroutine = 1").has_value());
}

// The policy does not try to recognise expensive code: the sandbox bounds
// every call (lua_sandbox.h) and suspends a cartridge that keeps hitting its
// limits, so the issue 18 sort bomb and its relatives pass the scan.
TEST(PolicyGuardianTest, LeavesWhatTheSandboxBoundsToTheSandbox) {
  for (const HostileCartridge& hostile : kHostileCartridges) {
    EXPECT_EQ(PolicyGuardian::ScanLuaSource(hostile.source), std::nullopt) << hostile.name;
  }
}

TEST(PolicyGuardianTest, AuthorAllowlistAndSize) {
  PolicyGuardianOptions options;
  options.allowed_authors = std::vector<std::string>{"alice"};
  options.max_cartridge_bytes = 10;
  PolicyGuardian guardian(options);
  EXPECT_TRUE(guardian.Evaluate(Candidate("return 1", "alice"))->approved);
  auto other = guardian.Evaluate(Candidate("return 1", "mallory"));
  EXPECT_FALSE(other->approved);
  EXPECT_THAT(other->reason, HasSubstr("mallory"));
  auto big = guardian.Evaluate(Candidate("return 12345678901"));
  EXPECT_FALSE(big->approved);
  EXPECT_THAT(big->reason, HasSubstr("over the limit"));
}

class FailingGuardian : public Guardian {
 public:
  std::string Name() const override { return "down"; }
  absl::StatusOr<GuardianVerdict> Evaluate(const CartridgeCandidate&) override {
    return absl::UnavailableError("guardian down: connection refused");
  }
};

TEST(GuardianChainTest, PolicyDenialStopsBeforeExternalAndFailurePropagates) {
  std::vector<std::unique_ptr<Guardian>> members;
  members.push_back(std::make_unique<PolicyGuardian>(PolicyGuardianOptions{}));
  members.push_back(std::make_unique<FailingGuardian>());
  GuardianChain chain(std::move(members));
  auto denied = chain.Evaluate(Candidate("os.exit()"));
  ASSERT_TRUE(denied.ok());
  EXPECT_FALSE(denied->approved);
  auto failed = chain.Evaluate(Candidate("return 1"));
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace teleclaude::mesh
