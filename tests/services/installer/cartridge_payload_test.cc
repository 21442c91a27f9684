#include "services/installer/cartridge_payload.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/json/json_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/installer/sha256.h"

namespace teleclaude::mesh {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kLimit = 1024;

std::string Payload(
    const std::string& name, const std::string& code_b64,
    const std::string& extra = R"("version":"1.0.0","author":"alice","runtime":"lua")") {
  return absl::StrCat(R"({"name":)", json::Quote(name), R"(,"event_type":"demo.ping","code":)",
                      json::Quote(code_b64), R"(,"entry_point":"process","dependencies":["x"],)",
                      R"("description":"d",)", extra, "}");
}

std::string B64(const std::string& s) { return absl::Base64Escape(s); }

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(CartridgePayloadTest, AcceptsAValidPayload) {
  std::string source = "function process(e) return e end\n-- é\n";
  auto c = ParseCartridgePayload(Payload("ping-2_x", B64(source)), kLimit, "bob");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name, "ping-2_x");
  EXPECT_EQ(c->event_type, "demo.ping");
  EXPECT_EQ(c->version, "1.0.0");
  EXPECT_EQ(c->author, "alice");
  EXPECT_EQ(c->runtime, "lua");
  EXPECT_EQ(c->entry_point, "process");
  EXPECT_EQ(c->dependencies, std::vector<std::string>{"x"});
  EXPECT_EQ(c->description, "d");
  EXPECT_EQ(c->source, source);
  EXPECT_EQ(c->sha256, Sha256Hex(source));
  EXPECT_EQ(c->source_computer, "bob");
}

TEST(CartridgePayloadTest, NameBoundaries) {
  EXPECT_TRUE(IsValidCartridgeName("a"));
  EXPECT_TRUE(IsValidCartridgeName("0"));
  EXPECT_TRUE(IsValidCartridgeName(std::string(64, 'a')));
  EXPECT_FALSE(IsValidCartridgeName(std::string(65, 'a')));
  EXPECT_FALSE(IsValidCartridgeName(""));
  EXPECT_FALSE(IsValidCartridgeName("A"));
  EXPECT_FALSE(IsValidCartridgeName("-a"));
  EXPECT_FALSE(IsValidCartridgeName("_a"));
  EXPECT_FALSE(IsValidCartridgeName("a.b"));
  EXPECT_FALSE(IsValidCartridgeName("../../x"));
  EXPECT_FALSE(IsValidCartridgeName("a/b"));
  EXPECT_FALSE(IsValidCartridgeName(std::string("a\0b", 3)));
}

struct BadCase {
  std::string label;
  std::string payload;
  std::string field;
  std::string message_part;
};

TEST(CartridgePayloadTest, RefusesBadPayloadsNamingTheField) {
  const std::string ok_code = B64("return 1");
  const std::vector<BadCase> cases = {
      {"traversal", Payload("../../x", ok_code), "name", "not a valid cartridge name"},
      {"upper", Payload("A", ok_code), "name", "not a valid cartridge name"},
      {"65 chars", Payload(std::string(65, 'a'), ok_code), "name", "not a valid cartridge name"},
      {"empty name", Payload("", ok_code), "name", "must not be empty"},
      {"bad base64", Payload("x", "@@@@"), "code", "not valid base64"},
      {"base64 whitespace", Payload("x", "cmV0 dXJu"), "code", "not valid base64"},
      {"non utf8", Payload("x", B64("\xff\xfe return")), "code", "valid UTF-8"},
      {"oversize", Payload("x", B64(std::string(kLimit + 1, 'a'))), "code", "limit of 1024"},
      {"far oversize", Payload("x", B64(std::string(10 * kLimit, 'a'))), "code", "limit"},
      {"empty code", Payload("x", ""), "code", "must not be empty"},
      {"unknown runtime", Payload("x", ok_code, R"("version":"1","author":"a","runtime":"wasm")"),
       "runtime", "supported: lua, python"},
      {"empty runtime", Payload("x", ok_code, R"("version":"1","author":"a","runtime":"")"),
       "runtime", "must not be empty"},
      {"missing runtime", Payload("x", ok_code, R"("version":"1","author":"a")"), "runtime",
       "field required"},
      {"missing version", Payload("x", ok_code, R"("author":"a","runtime":"lua")"), "version",
       "field required"},
      {"empty version", Payload("x", ok_code, R"("version":"","author":"a","runtime":"lua")"),
       "version", "must not be empty"},
      {"missing author", Payload("x", ok_code, R"("version":"1","runtime":"lua")"), "author",
       "field required"},
      {"number author", Payload("x", ok_code, R"("version":"1","author":7,"runtime":"lua")"),
       "author", "expected a string, got number"},
      {"missing code", R"({"name":"x","version":"1","author":"a","runtime":"lua"})", "code",
       "field required"},
      {"missing name", R"({"code":"eA==","version":"1","author":"a","runtime":"lua"})", "name",
       "field required"},
      {"not json", "{", "payload", "not valid JSON"},
  };
  for (const BadCase& bad : cases) {
    auto c = ParseCartridgePayload(bad.payload, kLimit, "peer");
    ASSERT_FALSE(c.ok()) << bad.label;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << bad.label;
    EXPECT_EQ(PayloadErrorField(c.status()), bad.field) << bad.label << ": " << c.status();
    EXPECT_THAT(c.status().message(), HasSubstr(bad.message_part)) << bad.label;
  }
  auto bad_entry = ParseCartridgePayload(
      R"({"name":"x","code":"eA==","version":"1","author":"a","runtime":"lua","entry_point":"a b"})",
      kLimit, "");
  EXPECT_EQ(PayloadErrorField(bad_entry.status()), "entry_point") << bad_entry.status();
  auto bad_deps = ParseCartridgePayload(
      R"({"name":"x","code":"eA==","version":"1","author":"a","runtime":"lua","dependencies":[1]})",
      kLimit, "");
  EXPECT_EQ(PayloadErrorField(bad_deps.status()), "dependencies[0]") << bad_deps.status();
}

// The plan's cartridge.published: no runtime, entry_point module:function.
TEST(CartridgePayloadTest, PlanShapedPythonPayloadInfersThePythonRuntime) {
  const std::string py = B64("async def process(event, context):\n    return event\n");
  auto c = ParseCartridgePayload(
      absl::StrCat(R"({"name":"pytagger","event_type":"*","version":"1.0.0","author":"c",)",
                   R"("code":")", py, R"(","entry_point":"pytagger:process"})"),
      kLimit, "py-a");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->runtime, "python");
  EXPECT_EQ(c->entry_point, "pytagger:process");
  // A bare name with Python code: inferred from the code.
  c = ParseCartridgePayload(absl::StrCat(R"({"name":"t","version":"1","author":"c","code":")", py,
                                         R"(","entry_point":"process"})"),
                            kLimit, "");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->runtime, "python");
  // Lua code and no runtime: nothing to infer it from.
  c = ParseCartridgePayload(absl::StrCat(R"({"name":"t","version":"1","author":"c","code":")",
                                         B64("function process(e) return e end\n"), R"("})"),
                            kLimit, "");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(PayloadErrorField(c.status()), "runtime") << c.status();
  EXPECT_THAT(c.status().message(), HasSubstr("cannot be inferred"));
  // An explicit runtime wins over the inference.
  EXPECT_EQ(ResolveRuntime("lua", "m:process", "def process(e):").value_or(""), "lua");
}

TEST(CartridgePayloadTest, EntryPointIsANameOrModuleColonFunction) {
  for (const char* ok : {"", "process", "pytagger:process", "pkg.mod_2:run", "_x:_y"}) {
    EXPECT_TRUE(CheckEntryPoint(ok).ok()) << ok;
  }
  for (const char* bad :
       {"a b", ":process", "mod:", "a:b:c", "mod..x:f", "1mod:f", "mod:1f", "mod:f()"}) {
    absl::Status s = CheckEntryPoint(bad);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_EQ(PayloadErrorField(s), "entry_point") << s;
  }
}

// Found by fuzz_cartridge_payload: numbers such as -0e41 took RapidJSON's
// full-precision path, which is undefined behaviour (clz of 0) for a zero
// mantissa; numbers are only skipped, so they are parsed at normal precision.
// (The undefined behaviour shows under UBSan, i.e. in the fuzz target.)
TEST(CartridgePayloadTest, ZeroWithLargeExponentsInExtraMembersIsSkipped) {
  auto c = ParseCartridgePayload(
      Payload("x", B64("return 1"),
              R"("version":"1","author":"a","runtime":"lua","n":[-0e41,0e300,0.0e-400])"),
      kLimit, "bob");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->source, "return 1");
  auto bad = ParseCartridgePayload(R"({"name":"x","version":0e41})", kLimit, "bob");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(PayloadErrorField(bad.status()), "version");
}

TEST(CartridgePayloadTest, ExactlyAtTheLimitIsAccepted) {
  auto c = ParseCartridgePayload(Payload("x", B64(std::string(kLimit, 'a'))), kLimit, "");
  EXPECT_TRUE(c.ok()) << c.status();
}

}  // namespace
}  // namespace teleclaude::mesh
