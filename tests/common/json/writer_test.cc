#include "common/json/writer.h"

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "common/json/json_text.h"
#include "gtest/gtest.h"

namespace teleclaude::mesh::json {
namespace {

TEST(WriterTest, WritesCompactCanonicalText) {
  std::string out;
  Writer w(&out);
  std::string key = "k\"ey\n";
  w.BeginObject()
      .Key("name")
      .String("a/b \"q\" \x01 é")
      .Key(key)
      .Int(-42)
      .Key("list")
      .BeginArray()
      .Bool(true)
      .Bool(false)
      .Null()
      .BeginObject()
      .EndObject()
      .BeginArray()
      .EndArray()
      .EndArray()
      .Key("unset")
      .OptionalString(std::nullopt)
      .Key("set")
      .OptionalString(std::string("x"))
      .Key("names")
      .StringList(std::vector<std::string>{"p", "q"})
      .EndObject();
  EXPECT_EQ(out,
            "{\"name\":\"a/b \\\"q\\\" \\u0001 é\",\"k\\\"ey\\n\":-42,"
            "\"list\":[true,false,null,{},[]],\"unset\":null,\"set\":\"x\","
            "\"names\":[\"p\",\"q\"]}");
  EXPECT_EQ(w.depth(), 0);
  absl::StatusOr<std::string> canonical = Canonicalize(out);
  ASSERT_TRUE(canonical.ok()) << canonical.status();
  EXPECT_EQ(*canonical, out);
}

TEST(WriterTest, LiteralKeysAndRuntimeKeysWriteTheSameText) {
  std::string literal;
  Writer(&literal).BeginObject().Key("event").Int(1).Key("b").Int(2).EndObject();
  std::string runtime;
  std::string event = "event";
  std::string b = "b";
  Writer(&runtime).BeginObject().Key(event).Int(1).Key(b).Int(2).EndObject();
  EXPECT_EQ(literal, R"({"event":1,"b":2})");
  EXPECT_EQ(runtime, literal);
}

TEST(WriterTest, AppendsAfterExistingTextWithoutASeparator) {
  std::string out = "prefix,";
  Writer(&out).BeginArray().Int(1).Int(2).EndArray();
  EXPECT_EQ(out, "prefix,[1,2]");
}

TEST(WriterTest, CanonicalAndMeshValuesAreCopied) {
  std::string out;
  Writer(&out)
      .BeginObject()
      .Key("payload")
      .Canonical(R"({"a":[1,2.5]})")
      .Key("model")
      .MeshValue(R"({"x":NaN,"y":"NaN","z":[Infinity,-Infinity]})")
      .EndObject();
  EXPECT_EQ(out, R"({"payload":{"a":[1,2.5]},"model":{"x":null,"y":"NaN","z":[null,null]}})");
}

TEST(WriterTest, DoublesUseTheMeshLayout) {
  std::string out;
  Writer(&out)
      .BeginArray()
      .Double(1.0)
      .Double(1e-6)
      .Double(0.00001)
      .Double(1e16)
      .Double(std::numeric_limits<double>::quiet_NaN())
      .Double(std::numeric_limits<double>::infinity(), NonFinite::kKeep)
      .EndArray();
  EXPECT_EQ(out, "[1.0,1e-6,0.00001,1e+16,null,Infinity]");
}

TEST(WriterTest, CheckedFormsRefuseInvalidUtf8AndNumbers) {
  std::string out;
  Writer w(&out);
  w.BeginObject();
  EXPECT_TRUE(w.CheckedKey("ok"));
  EXPECT_TRUE(w.CheckedString("é"));
  EXPECT_FALSE(w.CheckedKey("\xff"));
  std::string bad_out;
  Writer bad(&bad_out);
  EXPECT_FALSE(bad.CheckedString("\xed\xa0\x80"));  // a surrogate
  std::string error;
  std::string numbers;
  Writer n(&numbers);
  n.BeginArray();
  EXPECT_TRUE(n.RawNumber("-0", NonFinite::kNull, &error));
  EXPECT_TRUE(n.RawNumber("2.50", NonFinite::kNull, &error));
  EXPECT_TRUE(n.RawNumber("NaN", NonFinite::kKeep, &error));
  n.EndArray();
  EXPECT_EQ(numbers, "[0,2.5,NaN]");
  std::string scratch;
  EXPECT_FALSE(Writer(&scratch).RawNumber("nan", NonFinite::kKeep, &error));
  EXPECT_NE(error.find("invalid number 'nan'"), std::string::npos) << error;
}

}  // namespace
}  // namespace teleclaude::mesh::json
