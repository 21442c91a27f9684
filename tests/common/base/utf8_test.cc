#include "common/base/utf8.h"

#include <cstddef>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace teleclaude::mesh {
namespace {

// Every bad sequence at every offset of every length, so each path of the
// ASCII scan (byte by byte, 8-byte words, 16-byte blocks, the overlapping
// tail load) meets it.
TEST(Utf8Test, FirstInvalidIsTheBadSequenceAtAnyOffset) {
  const std::vector<std::string> bad = {
      "\x80",              // stray continuation byte
      "\xbf",              // stray continuation byte
      "\xc0\xaf",          // overlong lead C0
      "\xc1\xbf",          // overlong lead C1
      "\xe0\x80\xaf",      // overlong 3-byte
      "\xe0\x9f\xbf",      // overlong 3-byte, the largest
      "\xf0\x8f\xbf\xbf",  // overlong 4-byte
      "\xed\xa0\x80",      // surrogate U+D800
      "\xed\xbf\xbf",      // surrogate U+DFFF
      "\xf4\x90\x80\x80",  // U+110000
      "\xf5\x80\x80\x80",  // lead above F4
      "\xff",              // never in UTF-8
      "\xc3",              // truncated 2-byte
      "\xe2\x82",          // truncated 3-byte
      "\xf0\x9f\x98",      // truncated 4-byte
      "\xc3\x41",          // lead followed by ASCII
      "\xe2\x82\x41",      // lead, continuation, ASCII
  };
  for (size_t len = 0; len <= 40; ++len) {
    const std::string plain(len, 'a');
    EXPECT_EQ(FirstInvalidUtf8(plain), len);
    for (size_t at = 0; at <= len; ++at) {
      for (const std::string& b : bad) {
        std::string s = plain;
        s.insert(at, b);
        EXPECT_EQ(FirstInvalidUtf8(s), at) << len << " " << at;
        EXPECT_FALSE(IsValidUtf8(s)) << len << " " << at;
      }
    }
  }
}

TEST(Utf8Test, AcceptsEveryWellFormedLengthAndBoundary) {
  const std::vector<std::string> good = {
      "\x7f",              // U+007F
      "\xc2\x80",          // U+0080
      "\xdf\xbf",          // U+07FF
      "\xe0\xa0\x80",      // U+0800
      "\xed\x9f\xbf",      // U+D7FF, just below the surrogates
      "\xee\x80\x80",      // U+E000, just above them
      "\xef\xbf\xbf",      // U+FFFF
      "\xf0\x90\x80\x80",  // U+10000
      "\xf4\x8f\xbf\xbf",  // U+10FFFF
  };
  for (size_t len = 0; len <= 40; ++len) {
    for (size_t at = 0; at <= len; ++at) {
      for (const std::string& g : good) {
        std::string s(len, 'a');
        s.insert(at, g);
        EXPECT_EQ(FirstInvalidUtf8(s), s.size()) << len << " " << at;
        EXPECT_TRUE(IsValidUtf8(s)) << len << " " << at;
      }
    }
  }
}

TEST(Utf8Test, FirstInvalidIsTheFirstOfSeveral) {
  EXPECT_EQ(FirstInvalidUtf8("\xc3\xa9"
                             "ab\xff"
                             "cd\xc0\xaf"),
            4u);
  EXPECT_EQ(FirstInvalidUtf8(std::string(20, 'x') + "\xe2\x82\xac\xed\xa0\x80\xff"), 23u);
  // A truncated sequence at the end: its lead, not the end.
  EXPECT_EQ(FirstInvalidUtf8(std::string(17, 'x') + "\xf0\x9f\x98"), 17u);
}

TEST(Utf8Test, SequenceLength) {
  const std::string s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x80";
  EXPECT_EQ(Utf8SequenceLength(s, 0), 1u);
  EXPECT_EQ(Utf8SequenceLength(s, 1), 2u);
  EXPECT_EQ(Utf8SequenceLength(s, 3), 3u);
  EXPECT_EQ(Utf8SequenceLength(s, 6), 4u);
  EXPECT_EQ(Utf8SequenceLength(s, 10), 0u);  // stray continuation byte
  EXPECT_EQ(Utf8SequenceLength(s, 2), 0u);   // inside a sequence
  // Only the bytes before n count: a sequence cut by n is invalid.
  EXPECT_EQ(Utf8SequenceLength(s.data(), 6, 9), 0u);
}

// From the installer's former copy (services/installer/cartridge_payload.cc).
TEST(Utf8Test, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
}

TEST(Utf8Test, EmptyIsValid) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_EQ(FirstInvalidUtf8(""), 0u);
}

}  // namespace
}  // namespace teleclaude::mesh
