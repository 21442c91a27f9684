#include "common/identity/transcript.h"

#include "gtest/gtest.h"
#include "tests/common/identity/test_keys.h"

namespace teleclaude::mesh {
namespace {

TEST(TranscriptTest, IsTheTagANulThenEachFieldWithAnEightByteLength) {
  EXPECT_EQ(testing::ToHex(TranscriptBytes("t v1", {"ab", "", std::string_view("\0", 1)})),
            "74207631"              // "t v1"
            "00"                    // NUL
            "00000000000000026162"  // "ab"
            "0000000000000000"      // ""
            "000000000000000100");  // "\0"
}

TEST(TranscriptTest, FieldBoundariesAreUnambiguous) {
  // The same concatenated bytes split differently give different transcripts.
  EXPECT_NE(TranscriptBytes("t", {"ab", "c"}), TranscriptBytes("t", {"a", "bc"}));
  EXPECT_NE(TranscriptBytes("t", {"abc"}), TranscriptBytes("t", {"abc", ""}));
  EXPECT_NE(TranscriptBytes("t", {"x"}), TranscriptBytes("u", {"x"}));
}

TEST(TranscriptTest, ListItemsAreLengthPrefixed) {
  EXPECT_EQ(testing::ToHex(TranscriptList({"a", "bc"})),
            "000000000000000161"
            "00000000000000026263");
  EXPECT_NE(TranscriptList({"a", "bc"}), TranscriptList({"ab", "c"}));
  EXPECT_EQ(TranscriptList({}), "");
}

TEST(TranscriptTest, WriteTranscriptFeedsTheSameBytes) {
  std::string fed;
  WriteTranscript("dom", {"one", "two"}, [&fed](std::string_view piece) { fed.append(piece); });
  EXPECT_EQ(fed, TranscriptBytes("dom", {"one", "two"}));
}

}  // namespace
}  // namespace teleclaude::mesh
