// Peers' names (issue 15): every printable name up to 255 bytes is a peer;
// control characters, line breaks, invalid UTF-8 and longer names are not;
// names are shown quoted and escaped unless plain.
#include "common/mesh/peer_name.h"

#include <string>

#include "gtest/gtest.h"

namespace teleclaude::mesh {
namespace {

TEST(PeerNameTest, AcceptsEveryPrintableNameUpTo255Bytes) {
  for (const std::string& name :
       {std::string("alpha"), std::string("py C"), std::string("a:b"), std::string("*{x}"),
        std::string(" lead"), std::string("caf\xc3\xa9"), std::string("\xf0\x9f\x92\xbb"),
        std::string(255, 'n')}) {
    EXPECT_TRUE(ValidatePeerName("name", name).ok()) << name;
  }
}

TEST(PeerNameTest, RefusesWhatCannotBeOneLineOfText) {
  auto message = [](const std::string& name) {
    return std::string(ValidatePeerName("heartbeat: computer_name", name).message());
  };
  EXPECT_EQ(message(""), "heartbeat: computer_name: is empty");
  EXPECT_EQ(message(std::string(256, 'n')).substr(0, 62),
            "heartbeat: computer_name: nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn... ");
  EXPECT_NE(message(std::string(256, 'n')).find("is 256 bytes long, more than 255"),
            std::string::npos);
  EXPECT_EQ(message("a\nb"),
            "heartbeat: computer_name: \"a\\x0ab\" contains a control character or line break");
  EXPECT_NE(message("a\x7f").find("control character"), std::string::npos);
  EXPECT_NE(message("a\xc2\x85").find("control character"), std::string::npos);      // C1 NEL
  EXPECT_NE(message("a\xe2\x80\xa8").find("control character"), std::string::npos);  // U+2028
  EXPECT_EQ(message("al\xffpha"),
            "heartbeat: computer_name: \"al\\xffpha\" is not valid UTF-8 (byte 2)");
}

TEST(PeerNameTest, PlainNamesAreShownAsTheyAreOthersQuoted) {
  EXPECT_EQ(DisplayPeerName("desk-1.home_x"), "desk-1.home_x");
  EXPECT_EQ(DisplayPeerName("py C"), "\"py C\"");
  EXPECT_EQ(DisplayPeerName("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(DisplayPeerName("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(DisplayPeerName("a\x07"), "\"a\\\\x07\"");
  EXPECT_EQ(DisplayPeerName(""), "\"\"");
}

}  // namespace
}  // namespace teleclaude::mesh
