// Every wire test vector recorded from the Python model (../shared/wire):
// the C++ codecs must read and write exactly the same bytes.
#include "tests/common/envelope/wire_fixtures.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "common/envelope/internal/json_decode.h"
#include "common/envelope/json_codec.h"
#include "common/envelope/proto_codec.h"
#include "common/envelope/stream_codec.h"
#include "gtest/gtest.h"

namespace teleclaude::mesh {
namespace {

using testing::InvalidCase;
using testing::ValidCase;

std::string ShowFields(const StreamFields& f) {
  std::string s;
  for (const auto& [k, v] : f) s += "  " + k + " = " + v + "\n";
  return s;
}

std::vector<ValidCase> Valid() {
  auto cases = testing::LoadValidCases();
  EXPECT_TRUE(cases.ok()) << cases.status();
  return cases.ok() ? *cases : std::vector<ValidCase>{};
}

class WireFixturesTest : public ::testing::Test {};

TEST_F(WireFixturesTest, FixturesArePresent) {
  auto valid = testing::LoadValidCases();
  ASSERT_TRUE(valid.ok()) << valid.status();
  EXPECT_EQ(valid->size(), 45u);
  auto invalid = testing::LoadInvalidCases();
  ASSERT_TRUE(invalid.ok()) << invalid.status();
  EXPECT_EQ(invalid->size(), 48u);
}

TEST_F(WireFixturesTest, JsonEncodingMatchesModelDumpJsonByteForByte) {
  std::string failures;
  for (const ValidCase& c : Valid()) {
    auto env = DecodeEnvelopeJson(c.input_json);
    if (!env.ok()) {
      failures += c.name + ": rejected: " + std::string(env.status().message()) + "\n";
      continue;
    }
    std::string got = EncodeEnvelopeJson(*env);
    if (got != c.model_dump_json) {
      failures += c.name + ":\n  want " + c.model_dump_json.substr(0, 2000) + "\n  got  " +
                  got.substr(0, 2000) + "\n";
    }
    std::vector<std::string> keys;
    for (const auto& [k, v] : env->extras) keys.push_back(k);
    if (keys != c.model_extra_keys) failures += c.name + ": extras differ\n";
  }
  EXPECT_EQ(failures, "");
}

TEST_F(WireFixturesTest, DecodingModelDumpJsonIsAFixedPoint) {
  std::string failures;
  for (const ValidCase& c : Valid()) {
    auto env = DecodeEnvelopeJson(c.model_dump_json);
    if (!env.ok()) {
      failures += c.name + ": rejected: " + std::string(env.status().message()) + "\n";
      continue;
    }
    if (EncodeEnvelopeJson(*env) != c.model_dump_json) {
      failures += c.name + ": not a fixed point\n";
    }
  }
  EXPECT_EQ(failures, "");
}

// The decoder's fast path (no parser) is what makes the mesh cheap: it must
// be taken for the model text Python writes, unless the text has an escape or
// a number with an exponent (those go through the parser by design).
bool OutsideTheFastPath(const std::string& json) {
  if (json.find('\\') != std::string::npos) return true;
  for (size_t i = 1; i + 1 < json.size(); ++i) {
    if ((json[i] == 'e' || json[i] == 'E') && absl::ascii_isdigit(json[i - 1]) &&
        (absl::ascii_isdigit(json[i + 1]) || json[i + 1] == '+' || json[i + 1] == '-')) {
      return true;
    }
  }
  return false;
}

TEST_F(WireFixturesTest, ModelTextTakesTheFastPath) {
  std::string failures;
  int checked = 0;
  for (const ValidCase& c : Valid()) {
    if (OutsideTheFastPath(c.model_dump_json)) continue;
    ++checked;
    if (!envelope_internal::TakesModelTextFastPath(c.model_dump_json)) {
      failures += c.name + ": parsed in full\n";
    }
  }
  EXPECT_EQ(failures, "");
  EXPECT_GT(checked, 30);  // most of the 45 cases
}

TEST_F(WireFixturesTest, StreamEncodingMatchesToStreamDict) {
  std::string failures;
  for (const ValidCase& c : Valid()) {
    auto env = DecodeEnvelopeJson(c.input_json);
    if (!env.ok()) {
      failures += c.name + ": rejected\n";
      continue;
    }
    StreamFields got = EncodeEnvelopeStream(*env);
    if (got != c.stream_dict) {
      failures += c.name + ":\n want\n" + ShowFields(c.stream_dict).substr(0, 3000) + " got\n" +
                  ShowFields(got).substr(0, 3000);
    }
  }
  EXPECT_EQ(failures, "");
}

TEST_F(WireFixturesTest, StreamDecodingMatchesFromStreamDict) {
  std::string failures;
  for (const ValidCase& c : Valid()) {
    auto env = DecodeEnvelopeStream(c.stream_dict);
    if (!env.ok()) {
      failures += c.name + ": rejected: " + std::string(env.status().message()) + "\n";
      continue;
    }
    std::string got = EncodeEnvelopeJson(*env);
    if (got != c.stream_roundtrip_model_dump_json) {
      failures += c.name + ":\n  want " + c.stream_roundtrip_model_dump_json.substr(0, 2000) +
                  "\n  got  " + got.substr(0, 2000) + "\n";
    }
    // Field order of a stream entry is irrelevant.
    StreamFields reversed(c.stream_dict.rbegin(), c.stream_dict.rend());
    auto env2 = DecodeEnvelopeStream(reversed);
    if (!env2.ok() || !(*env2 == *env)) {
      failures += c.name + ": field order changed the result\n";
    }
  }
  EXPECT_EQ(failures, "");
}

TEST_F(WireFixturesTest, ProtoRoundTripIsLossless) {
  std::string failures;
  for (const ValidCase& c : Valid()) {
    auto env = DecodeEnvelopeJson(c.input_json);
    if (!env.ok()) {
      failures += c.name + ": rejected\n";
      continue;
    }
    teleclaude::mesh::v1::EventEnvelope proto;
    EnvelopeToProto(*env, &proto);
    std::string bytes = proto.SerializeAsString();
    teleclaude::mesh::v1::EventEnvelope parsed;
    if (!parsed.ParseFromString(bytes)) {
      failures += c.name + ": proto does not parse\n";
      continue;
    }
    auto back = EnvelopeFromProto(parsed);
    if (!back.ok()) {
      failures += c.name + ": " + std::string(back.status().message()) + "\n";
      continue;
    }
    if (!(*back == *env)) {
      failures += c.name + ": proto round trip changed the envelope: " +
                  EncodeEnvelopeJson(*back).substr(0, 500) + "\n";
    }
  }
  EXPECT_EQ(failures, "");
}

TEST_F(WireFixturesTest, EveryInvalidCaseIsRejectedNamingTheField) {
  auto cases = testing::LoadInvalidCases();
  ASSERT_TRUE(cases.ok()) << cases.status();
  std::string failures;
  for (const InvalidCase& c : *cases) {
    auto env = DecodeEnvelopeJson(c.payload);
    if (env.ok()) {
      failures += c.name + ": accepted\n";
      continue;
    }
    std::string msg(env.status().message());
    if (env.status().code() != absl::StatusCode::kInvalidArgument ||
        msg.rfind(c.first_error_field + ": ", 0) != 0) {
      failures += c.name + ": want an error starting with '" + c.first_error_field + ": ', got '" +
                  msg + "'\n";
    }
  }
  EXPECT_EQ(failures, "");
}

}  // namespace
}  // namespace teleclaude::mesh
