#include "common/json/json_text.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/base/show_bytes.h"
#include "common/base/utf8.h"
#include "common/json/reader.h"
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

// RapidJSON's streams read a NUL byte as the end of the input; a raw NUL is
// never valid JSON, so every reader refuses it where it stands (the fuzzer
// found "4.0\0[[[..." passing the installer's check as 4.0).
TEST(JsonTextTest, NulBytesAreRefusedNotTakenAsTheEnd) {
  using namespace std::string_literals;
  for (const std::string& text : {"4.0\0[[[["s, "{\"a\":1}\0garbage"s, "\"a\0b\""s, "\0"s}) {
    absl::Status st = ValidateJsonText(text, "payload");
    ASSERT_FALSE(st.ok()) << ShowBytes(text);
    EXPECT_THAT(std::string(st.message()),
                ::testing::StartsWith("payload: not valid JSON: a NUL byte at offset "));
    EXPECT_FALSE(Canonicalize(text).ok()) << ShowBytes(text);
    rapidjson::Document doc;
    EXPECT_FALSE(ParseDocument(text, "payload", &doc).ok()) << ShowBytes(text);
  }
  EXPECT_EQ(ValidateJsonText("4.0\0"s, "x").message(), "x: not valid JSON: a NUL byte at offset 3");
  EXPECT_TRUE(ValidateJsonText("\"a\\u0000b\"", "x").ok());  // the escape is fine
  // An empty view (null data) is no JSON either (and never reaches memchr).
  EXPECT_FALSE(ValidateJsonText(std::string_view(), "x").ok());
  rapidjson::Document empty;
  EXPECT_FALSE(ParseDocument(std::string_view(), "x", &empty).ok());
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

TEST(JsonTextTest, SetMemberMatchesKeysAsTheyDecode) {
  EXPECT_EQ(*SetMember(R"({"a\"b":1,"c\u00e9":2,"x":[{"a\"b":0}]})", "a\"b", "3"),
            R"({"a\"b":3,"cé":2,"x":[{"a\"b":0}]})");
  EXPECT_EQ(*SetMember(R"({"a\"b":1,"c\u00e9":2})", "cé", R"("v")"), R"({"a\"b":1,"cé":"v"})");
  EXPECT_EQ(*SetMember(R"({"k":{"_mesh_source":1}})", "_mesh_source", R"("x")"),
            R"({"k":{"_mesh_source":1},"_mesh_source":"x"})");
  EXPECT_EQ(*SetMember(R"({"k":1,"k":2})", "k", "3"), R"({"k":3})");
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

// The quoting and UTF-8 scans work on 16- and 8-byte blocks with an
// overlapping last load: put a byte that matters at every position of
// strings of every length around those sizes.
TEST(JsonTextTest, BlockScansSeeEveryPosition) {
  auto reference_quote = [](std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c == '\n') {
        out += "\\n";
      } else if (c < 0x20) {
        static const char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      } else {
        out += static_cast<char>(c);
      }
    }
    return out + "\"";
  };
  for (size_t len = 0; len <= 40; ++len) {
    const std::string plain(len, 'a');
    EXPECT_EQ(Quote(plain), reference_quote(plain));
    EXPECT_TRUE(IsValidUtf8(plain));
    for (size_t at = 0; at < len; ++at) {
      for (char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
        std::string s = plain;
        s[at] = special;
        EXPECT_EQ(Quote(s), reference_quote(s)) << len << " " << at;
        std::string quoted;
        EXPECT_TRUE(AppendQuotedUtf8(s, &quoted));
        EXPECT_EQ(quoted, reference_quote(s));
      }
      std::string bad = plain;
      bad[at] = '\xff';
      EXPECT_FALSE(IsValidUtf8(bad)) << len << " " << at;
      std::string ignored;
      EXPECT_FALSE(AppendQuotedUtf8(bad, &ignored)) << len << " " << at;
      EXPECT_EQ(Quote(bad), reference_quote(bad));  // copied as is
      if (at + 2 <= len) {
        std::string accented = plain;
        accented.replace(at, 2, "\xc3\xa9");  // é
        EXPECT_TRUE(IsValidUtf8(accented)) << len << " " << at;
        std::string quoted;
        EXPECT_TRUE(AppendQuotedUtf8(accented, &quoted));
        EXPECT_EQ(quoted, "\"" + accented + "\"");
        std::string cut = plain;
        cut[at + 1] = '\xc3';  // a lead byte without its continuation (or at the end)
        if (at + 2 < len) cut[at + 2] = 'a';
        EXPECT_FALSE(IsValidUtf8(cut)) << len << " " << at;
      }
    }
  }
}

// Plain decimals skip the double round trip; the result must be what
// formatting the double gives.
TEST(JsonTextTest, PlainDecimalsCanonicalizeLikeTheirDouble) {
  std::mt19937_64 rng(20250301);
  std::vector<std::string> cases = {"0.0",
                                    "-0.0",
                                    "0.000",
                                    "1.0",
                                    "2.000",
                                    "8123.50",
                                    "0.00001",
                                    "0.000010",
                                    "0.000001",
                                    "123456789012345.0",
                                    "1234567890123456.0",
                                    "999999999999999.9",
                                    "0.1000000000000000",
                                    "-12.340"};
  for (int k = 0; k < 20000; ++k) {
    std::string s = rng() % 2 ? "-" : "";
    int int_digits = static_cast<int>(rng() % 18);
    if (int_digits == 0) {
      s += "0";
    } else {
      s += static_cast<char>('1' + rng() % 9);
      for (int d = 1; d < int_digits; ++d) s += static_cast<char>('0' + rng() % 10);
    }
    s += ".";
    int leading_zeros = static_cast<int>(rng() % 8);
    int frac_digits = 1 + static_cast<int>(rng() % 17);
    for (int d = 0; d < frac_digits; ++d) {
      s += d < leading_zeros ? '0' : static_cast<char>('0' + rng() % 10);
    }
    if (rng() % 3 == 0) s += "000";
    cases.push_back(s);
  }
  for (const std::string& c : cases) {
    EXPECT_EQ(Canon("[" + c + "]"), "[" + FormatDoubleMesh(std::strtod(c.c_str(), nullptr)) + "]")
        << c;
  }
}

TEST(JsonTextTest, AppendMeshJsonLeavesTokensInStringsAlone) {
  for (std::string text :
       {R"({"a":"x:NaN,[Infinity","b":"-Infinity"})", R"({"k:N":"[I",":I":[",N"]})",
        R"(["NaN",":Infinity"])", R"({"long":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,N"})"}) {
    std::string out;
    AppendMeshJson(text, &out);
    EXPECT_EQ(out, text);
  }
  std::string out;
  AppendMeshJson(R"({"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa":"bbbbbbbbbbbbbbbbbbbbbbbbb","n":NaN})", &out);
  EXPECT_EQ(out, R"({"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa":"bbbbbbbbbbbbbbbbbbbbbbbbb","n":null})");
  out.clear();
  AppendMeshJson("NaN", &out);
  EXPECT_EQ(out, "null");
}

// Canonicalize copies text that needs no rewriting (canonical, or spaced
// as json.dumps spaces it) instead of parsing it; both ways must agree.
TEST(JsonTextTest, PlainTextShortcutAgreesWithTheParser) {
  for (std::string_view text : {
           R"({"a": 1, "b": [true, false, null], "c": {"d": "e, f: g"}})",
           R"({"a":1,"b":[1, 2],"c":{}})",
           R"([])",
           R"("x")",
           R"(12)",
           R"(-0.5)",
           R"({"k": 1, "k": 2})",
           R"({"a":  1})",
           R"({"a" : 1})",
           R"( {"a": 1})",
           R"({"a": 1} )",
           R"([1 ,2])",
           R"({"s": "caf\u00e9", "d": "\u007f"})",
           R"({"f": 1e-05, "g": 1e+16, "h": 0.0001, "i": 1.0})",
           R"({"n": NaN, "i": -Infinity})",
           R"({"e": "\n\t\"\\\u0001"})",
           R"({"bad": tru})",
           R"({"a": [1, 2,]})",
           R"({"a": 1,})",
           R"({"a": "é"})",
       }) {
    for (NonFinite nf : {NonFinite::kNull, NonFinite::kKeep}) {
      absl::StatusOr<std::string> shortcut = Canonicalize(text, nf);
      absl::StatusOr<std::string> parsed = CanonicalizeWithParser(text, nf);
      ASSERT_EQ(shortcut.ok(), parsed.ok()) << text;
      if (shortcut.ok()) {
        EXPECT_EQ(*shortcut, *parsed) << text;
      } else {
        EXPECT_EQ(shortcut.status(), parsed.status()) << text;
      }
    }
  }
  std::string out = "prefix";
  EXPECT_TRUE(AppendCanonicalIfPlain(R"({"a": [1, 2], "b": "x, y"})", &out));
  EXPECT_EQ(out, R"(prefix{"a":[1,2],"b":"x, y"})");
  EXPECT_FALSE(AppendCanonicalIfPlain(R"({"a": 1e5})", &out));
  EXPECT_EQ(out, R"(prefix{"a":[1,2],"b":"x, y"})");
}

TEST(JsonTextTest, CanonicalValueEndAcceptsOnlyTextThatIsItsOwnCanonicalForm) {
  std::vector<KeySpan> scratch;
  auto accepted = [&](std::string_view text) {
    return CanonicalValueEnd(text, 0, 32, &scratch) == text.size();
  };
  for (std::string_view text : {R"({})", R"([])", R"({"a":1,"b":[true,false,null],"c":{"d":"e"}})",
                                R"("é\n\"\\\u0001")", R"(-12)", R"(0)", R"(1.5)", R"(-0.0)",
                                R"(0.00001)", R"({"a":{"a":{"a":1}},"b":1})", R"(["a","a"])"}) {
    EXPECT_TRUE(accepted(text)) << text;
    EXPECT_EQ(Canon(text, NonFinite::kKeep), text);
  }
  for (std::string_view text :
       {R"({"a":1,"a":2})",
        R"({ "a":1})",
        R"([1, 2])",
        R"("\/")",
        R"("\u00e9")",
        R"("\u000a")",
        R"("\u001F")",
        R"(-0)",
        R"(1.50)",
        R"(1e5)",
        R"(0.000001)",
        R"(01)",
        R"(NaN)",
        R"([1,])",
        R"({"a"})",
        R"("open)",
        R"(tru)",
        "\"\xff\"",
        "\"\x01\"",
        R"([[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]])",
        R"(1234567890123456789012345678901234567890123)"}) {
    EXPECT_FALSE(accepted(text)) << text;
  }
}

}  // namespace
}  // namespace teleclaude::mesh::json
