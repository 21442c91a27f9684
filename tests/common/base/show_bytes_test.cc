#include "common/base/show_bytes.h"

#include "gtest/gtest.h"

namespace teleclaude::mesh {
namespace {

TEST(ShowBytesTest, QuotesPrintableAsciiAndEscapesTheRest) {
  EXPECT_EQ(ShowBytes("abc"), "\"abc\"");
  EXPECT_EQ(ShowBytes("a\"b\\c\n\xC3\xA9"), "\"a\\x22b\\x5cc\\x0a\\xc3\\xa9\"");
  EXPECT_EQ(ShowBytes("abcdef", 3), "\"abc\"...");
}

TEST(ShowBytesTest, EscapeForMessageKeepsUtf8AndEscapesControlAndBrokenBytes) {
  EXPECT_EQ(EscapeForMessage("b\xC3\xA9ta \"x\""), "b\xC3\xA9ta \"x\"");
  EXPECT_EQ(EscapeForMessage("a\nb\x7f"), "a\\x0ab\\x7f");
  // A two-byte character cut after its first byte, and a stray continuation.
  EXPECT_EQ(EscapeForMessage("x\xC8"), "x\\xc8");
  EXPECT_EQ(EscapeForMessage("\x80y"), "\\x80y");
}

}  // namespace
}  // namespace teleclaude::mesh
