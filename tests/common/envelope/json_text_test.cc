#include "common/envelope/json_text.h"

#include <cmath>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace teleclaude::mesh::json {
namespace {

std::string Canon(std::string_view in, NonFinite nf = NonFinite::kNull) {
  auto r = Canonicalize(in, nf);
  EXPECT_TRUE(r.ok()) << in << ": " << r.status();
  return r.ok() ? *r : "";
}

TEST(JsonTextTest, FloatLayoutMeshStyle) {
  EXPECT_EQ(FormatDoubleMesh(1e-4), "0.0001");
  EXPECT_EQ(FormatDoubleMesh(1e-5), "0.00001");
  EXPECT_EQ(FormatDoubleMesh(1.5e-5), "0.000015");
  EXPECT_EQ(FormatDoubleMesh(9.9e-6), "9.9e-6");
  EXPECT_EQ(FormatDoubleMesh(1e-6), "1e-6");
  EXPECT_EQ(FormatDoubleMesh(-1.5e-7), "-1.5e-7");
  EXPECT_EQ(FormatDoubleMesh(1e15), "1000000000000000.0");
  EXPECT_EQ(FormatDoubleMesh(9999999999999998.0), "9999999999999998.0");
  EXPECT_EQ(FormatDoubleMesh(1e16), "1e+16");
  EXPECT_EQ(FormatDoubleMesh(1.5e16), "1.5e+16");
  EXPECT_EQ(FormatDoubleMesh(12345678901234567.0), "1.2345678901234568e+16");
  EXPECT_EQ(FormatDoubleMesh(5e-324), "5e-324");
  EXPECT_EQ(FormatDoubleMesh(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(FormatDoubleMesh(0.0), "0.0");
  EXPECT_EQ(FormatDoubleMesh(-0.0), "-0.0");
  EXPECT_EQ(FormatDoubleMesh(1.0), "1.0");
  EXPECT_EQ(FormatDoubleMesh(0.1), "0.1");
  EXPECT_EQ(FormatDoubleMesh(123.456), "123.456");
  EXPECT_EQ(FormatDoubleMesh(0.30000000000000004), "0.30000000000000004");
  EXPECT_EQ(FormatDoubleMesh(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(FormatDoubleMesh(-std::numeric_limits<double>::infinity()), "-Infinity");
}

TEST(JsonTextTest, FloatLayoutPythonStyle) {
  EXPECT_EQ(FormatDoublePython(1e-4), "0.0001");
  EXPECT_EQ(FormatDoublePython(1e-5), "1e-05");
  EXPECT_EQ(FormatDoublePython(1.5e-5), "1.5e-05");
  EXPECT_EQ(FormatDoublePython(9.9e-6), "9.9e-06");
  EXPECT_EQ(FormatDoublePython(1.2345e-5), "1.2345e-05");
  EXPECT_EQ(FormatDoublePython(1e16), "1e+16");
  EXPECT_EQ(FormatDoublePython(1e22), "1e+22");
  EXPECT_EQ(FormatDoublePython(1e100), "1e+100");
  EXPECT_EQ(FormatDoublePython(1e15), "1000000000000000.0");
  EXPECT_EQ(FormatDoublePython(5e-324), "5e-324");
  EXPECT_EQ(FormatDoublePython(2.5), "2.5");
  EXPECT_EQ(FormatDoublePython(-0.0), "-0.0");
}

TEST(JsonTextTest, CanonicalizeNumbers) {
  EXPECT_EQ(Canon(R"({"a":1E3,"b":1e-3,"c":100.0,"d":1.50,"e":0.000001})"),
            R"({"a":1000.0,"b":0.001,"c":100.0,"d":1.5,"e":1e-6})");
  EXPECT_EQ(Canon("[-0, 0, -0.0, 123456789012345678901234567890]"),
            "[0,0,-0.0,123456789012345678901234567890]");
  EXPECT_EQ(Canon("[1e400, -1e400, -1e-400, 1e-400]"), "[null,null,-0.0,0.0]");
  EXPECT_EQ(Canon("[1e400, NaN, -Infinity]", NonFinite::kKeep), "[Infinity,NaN,-Infinity]");
  EXPECT_EQ(Canon("[NaN, Infinity]"), "[null,null]");
  EXPECT_FALSE(Canonicalize("[Inf]").ok());
  EXPECT_FALSE(Canonicalize("[-NaN]").ok());
  EXPECT_FALSE(Canonicalize("[NaN.5]").ok());
}

TEST(JsonTextTest, CanonicalizeStrings) {
  EXPECT_EQ(Canon(R"(["\u00e9\u65e5\ud83d\ude00\u0007\/", "a\u2028b\u007f"])"),
            "[\"é日😀\\u0007/\",\"a\xE2\x80\xA8"
            "b\x7F\"]");
  EXPECT_EQ(Canon(R"("\b\f\n\r\t\"\\\u001f")"), R"("\b\f\n\r\t\"\\\u001f")");
  EXPECT_FALSE(Canonicalize(R"(["\ud800"])").ok());
  EXPECT_FALSE(Canonicalize(R"(["\udc00"])").ok());
  EXPECT_FALSE(Canonicalize("[\"\xC3\x28\"]").ok());      // invalid UTF-8
  EXPECT_FALSE(Canonicalize("[\"\xED\xA0\x80\"]").ok());  // raw surrogate
}

TEST(JsonTextTest, DuplicateKeysCollapseLikeAPythonDict) {
  EXPECT_EQ(Canon(R"({"a":1,"b":2,"a":3})"), R"({"a":3,"b":2})");
  EXPECT_EQ(Canon(R"({"x":{"k":1,"k":[1,2]},"y":[{"z":1,"z":{"q":0}}]})"),
            R"({"x":{"k":[1,2]},"y":[{"z":{"q":0}}]})");
  // Many keys (hash path).
  std::string in = "{";
  for (int i = 0; i < 40; ++i) in += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  in += "\"k5\":\"five\"}";
  std::string out = Canon(in);
  EXPECT_NE(out.find("\"k5\":\"five\",\"k6\":6"), std::string::npos) << out;
}

TEST(JsonTextTest, CanonicalizeErrorsNamePosition) {
  auto r = Canonicalize(R"({"a":1,})");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr("not valid JSON"));
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr("at offset 7"));
  auto o = CanonicalizeObject("[1]", "payload");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().message(), "payload: expected a JSON object, got array");
}

TEST(JsonTextTest, DeepNestingIsRejectedNotCrashing) {
  std::string deep(100000, '[');
  EXPECT_FALSE(Canonicalize(deep).ok());
  std::string ok_depth(kMaxDepth, '[');
  ok_depth += std::string(kMaxDepth, ']');
  EXPECT_TRUE(Canonicalize(ok_depth).ok());
  std::string too_deep(kMaxDepth + 1, '[');
  too_deep += std::string(kMaxDepth + 1, ']');
  EXPECT_FALSE(Canonicalize(too_deep).ok());
}

TEST(JsonTextTest, ToPythonJson) {
  EXPECT_EQ(ToPythonJson(R"({"a":[1,2.5,"é😀",null,true],"b":{},"c":0.00001})"),
            R"({"a": [1, 2.5, "\u00e9\ud83d\ude00", null, true], "b": {}, "c": 1e-05})");
  EXPECT_EQ(ToPythonJson("{\"d\":\"\x7F\",\"n\":NaN,\"i\":-Infinity}"),
            R"({"d": "\u007f", "n": NaN, "i": -Infinity})");
  EXPECT_EQ(ToPythonJson(R"("a\u0001\n")"), R"("a\u0001\n")");
}

TEST(JsonTextTest, AppendMeshJsonTurnsNonFiniteIntoNull) {
  std::string out;
  AppendMeshJson(R"({"NaN":NaN,"s":"Infinity","i":Infinity,"m":[-Infinity]})", &out);
  EXPECT_EQ(out, R"({"NaN":null,"s":"Infinity","i":null,"m":[null]})");
}

TEST(JsonTextTest, GetAndSetMember) {
  std::string obj = R"({"a":1,"b":{"c":"x"},"s":"h\u00e9"})";
  EXPECT_EQ(GetMember(obj, "a"), "1");
  EXPECT_EQ(GetMember(obj, "b"), R"({"c":"x"})");
  EXPECT_EQ(GetMember(obj, "zz"), std::nullopt);
  EXPECT_EQ(GetMember("[1]", "a"), std::nullopt);
  EXPECT_EQ(GetMemberString(obj, "s"), "hé");
  EXPECT_EQ(GetMemberString(obj, "a"), std::nullopt);
  EXPECT_EQ(GetMember(R"({"a":1,"a":2})", "a"), "2");

  EXPECT_EQ(*SetMember(obj, "a", "[true]"), R"({"a":[true],"b":{"c":"x"},"s":"hé"})");
  EXPECT_EQ(*SetMember(obj, "_mesh_source", R"("alpha")"),
            R"({"a":1,"b":{"c":"x"},"s":"hé","_mesh_source":"alpha"})");
  EXPECT_EQ(*SetMember("{}", "k", "1.50"), R"({"k":1.5})");
  EXPECT_FALSE(SetMember("[]", "k", "1").ok());
  EXPECT_FALSE(SetMember("{}", "k", "nope").ok());
}

TEST(JsonTextTest, PythonStr) {
  EXPECT_EQ(PythonStr(R"("plain é")"), "plain é");
  EXPECT_EQ(PythonStr("42"), "42");
  EXPECT_EQ(PythonStr("123456789012345678901234567890"), "123456789012345678901234567890");
  EXPECT_EQ(PythonStr("1.0"), "1.0");
  EXPECT_EQ(PythonStr("1e-5"), "1e-05");
  EXPECT_EQ(PythonStr("true"), "True");
  EXPECT_EQ(PythonStr("false"), "False");
  EXPECT_EQ(PythonStr("null"), "None");
  EXPECT_EQ(PythonStr("NaN"), "nan");
  EXPECT_EQ(PythonStr("-Infinity"), "-inf");
  EXPECT_EQ(PythonStr(R"({"a":1,"b":[true,null,"x'y",2.5],"c":{}})"),
            R"({'a': 1, 'b': [True, None, "x'y", 2.5], 'c': {}})");
  EXPECT_EQ(PythonStr(R"(["it's \"q\"","tab\there","é"])"), R"(['it\'s "q"', 'tab\there', 'é'])");
  EXPECT_EQ(PythonStr("[]"), "[]");
}

TEST(JsonTextTest, QuoteIsCanonical) {
  EXPECT_EQ(Quote("a\"b\\c/d\x01\x7F é"), "\"a\\\"b\\\\c/d\\u0001\x7F é\"");
}

}  // namespace
}  // namespace teleclaude::mesh::json
