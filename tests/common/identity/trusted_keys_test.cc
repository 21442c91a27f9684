#include "common/identity/trusted_keys.h"

#include <fstream>

#include "absl/strings/match.h"
#include "common/base/utf8.h"
#include "gtest/gtest.h"
#include "tests/common/identity/test_keys.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh {
namespace {

const std::string kAlphaFp(testing::kAlphaFingerprint);
const std::string kBetaFp(testing::kBetaFingerprint);

std::string ErrorOf(std::string_view text) {
  auto keys = TrustedKeys::Parse(text);
  EXPECT_FALSE(keys.ok()) << text;
  if (keys.ok()) return "";
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(keys.status().message());
}

TEST(TrustedKeysTest, ParsesNamesAndFingerprintsSkippingCommentsAndBlankLines) {
  auto keys = TrustedKeys::Parse("# the build farm\n\n  alpha\t" + kAlphaFp + "  \r\n   # beta:\n" +
                                 "beta " + absl::AsciiStrToUpper(kBetaFp));
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->entries().size(), 2u);
  EXPECT_EQ(keys->entries()[0].name, "alpha");
  EXPECT_EQ(keys->entries()[0].fingerprint.ToString(), kAlphaFp);
  EXPECT_EQ(keys->entries()[0].line, 3);
  EXPECT_EQ(keys->entries()[1].name, "beta");
  EXPECT_EQ(keys->entries()[1].fingerprint.ToString(), kBetaFp);
  EXPECT_EQ(keys->entries()[1].line, 5);
  ASSERT_NE(keys->Find("beta"), nullptr);
  EXPECT_EQ(keys->Find("beta")->line, 5);
  EXPECT_EQ(keys->Find("gamma"), nullptr);
  EXPECT_EQ(keys->ToText(), "alpha " + kAlphaFp + "\nbeta " + kBetaFp + "\n");
}

TEST(TrustedKeysTest, EmptyFileHasNoEntries) {
  auto keys = TrustedKeys::Parse("# nobody yet\n");
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->entries().empty());
}

TEST(TrustedKeysTest, RefusesBadLinesWithTheLineNumber) {
  EXPECT_EQ(ErrorOf("# x\nalpha\n"),
            "line 2: expected a name and a fingerprint, found one word; write \"NAME "
            "FINGERPRINT\", e.g. \"alpha mzxw-6ytb-oi3d-qnzr-gu4t-cnbv-ga2d-enrq\" (comments "
            "start a line with '#')");
  EXPECT_TRUE(absl::StartsWith(ErrorOf("alpha " + kAlphaFp + " # trailing\n"),
                               "line 1: expected a name and a fingerprint, found more words;"));
  EXPECT_EQ(ErrorOf("alpha " + kAlphaFp + "\nbeta x2dz\n"),
            "line 2: fingerprint of beta: expected a key fingerprint (8 groups of 4 characters "
            "a-z 2-7 joined by '-', e.g. mzxw-6ytb-oi3d-qnzr-gu4t-cnbv-ga2d-enrq), got \"x2dz\"; "
            "copy the fingerprint the computer shows for itself");
  EXPECT_EQ(ErrorOf("alpha " + kAlphaFp + "\nalpha " + kBetaFp + "\n"),
            "line 2: alpha is already listed on line 1; keep one line per computer");
  EXPECT_TRUE(absl::StartsWith(ErrorOf("al:pha " + kAlphaFp + "\n"),
                               "line 1: \"al:pha\" contains ':', which Redis keys of the mesh "
                               "reserve;"))
      << ErrorOf("al:pha " + kAlphaFp + "\n");
  EXPECT_EQ(ErrorOf("b\xFFta " + kAlphaFp + "\n"),
            "line 1: the name \"b\\xffta\" is not valid UTF-8; write the computer's name as its "
            "--computer_name");
}

// Found by fuzz_trusted_keys: ValidateName quotes the first 16 bytes of a
// long name, which cut a character in two.
TEST(TrustedKeysTest, ErrorsAboutNamesStayOneLineOfUtf8) {
  std::string cut;
  for (int i = 0; i < 40; ++i) cut += "\xC8\x9A";
  const std::string error = ErrorOf("b" + cut + " " + kAlphaFp + "\n");
  EXPECT_TRUE(IsValidUtf8(error)) << error;
  EXPECT_TRUE(absl::StartsWith(error, "line 1: \"b\xC8\x9A")) << error;
  EXPECT_TRUE(
      absl::StrContains(error, "\\xc8\"... is 81 characters long; use at most 64 characters"))
      << error;
}

TEST(TrustedKeysTest, IsBoundedInSizeAndEntries) {
  EXPECT_EQ(ErrorOf(std::string(TrustedKeys::kMaxFileBytes + 1, '#')),
            "65537 bytes, more than 65536; list at most 1024 computers, one \"name fingerprint\" "
            "per line");
  std::string many;
  for (size_t i = 0; i <= TrustedKeys::kMaxEntries; ++i) {
    many += "c" + std::to_string(i) + " " + kAlphaFp + "\n";
  }
  ASSERT_LE(many.size(), TrustedKeys::kMaxFileBytes);
  EXPECT_EQ(ErrorOf(many),
            "line 1025: more than 1024 computers; split the mesh or raise the limit");
}

TEST(TrustedKeysTest, LoadsAFileAndNamesItInErrors) {
  testing::TempDir dir;
  const std::string path = dir.File("trusted_keys");
  std::ofstream(path) << "alpha " << kAlphaFp << "\n";
  auto keys = TrustedKeys::LoadFile(path);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->entries().size(), 1u);

  std::ofstream(path) << "alpha\n";
  auto bad = TrustedKeys::LoadFile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StartsWith(bad.status().message(), "trusted_keys: " + path + ": line 1: "))
      << bad.status();

  auto missing = TrustedKeys::LoadFile(dir.File("absent"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "trusted_keys: " + dir.File("absent") + ": cannot read: No such file or directory");

  std::ofstream(path) << std::string(TrustedKeys::kMaxFileBytes + 10, '\n');
  auto big = TrustedKeys::LoadFile(path);
  ASSERT_FALSE(big.ok());
  EXPECT_TRUE(absl::StrContains(big.status().message(), "65537 bytes, more than 65536"))
      << big.status();
}

}  // namespace
}  // namespace teleclaude::mesh
