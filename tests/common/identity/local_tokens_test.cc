#include "common/identity/local_tokens.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

mode_t ModeOf(const fs::path& p) {
  struct stat st;
  EXPECT_EQ(stat(p.c_str(), &st), 0);
  return st.st_mode & 07777;
}

TEST(LocalTokensTest, FirstStartCreatesTwoDistinct0600TokensThatLaterStartsReuse) {
  testing::TempDir dir;
  auto first = LocalTokens::LoadOrCreate(dir.path());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->service().starts_with("teleclaude-service-"));
  EXPECT_TRUE(first->owner().starts_with("teleclaude-owner-"));
  EXPECT_EQ(first->service().size(), 19u + 64u);
  EXPECT_EQ(first->owner().size(), 17u + 64u);
  for (const char* name : {"service.token", "owner.token"}) {
    EXPECT_EQ(ModeOf(dir.path() / name), 0600u) << name;
  }
  EXPECT_EQ(ReadFile(dir.path() / "owner.token"), std::string(first->owner()) + "\n");
  auto second = LocalTokens::LoadOrCreate(dir.path());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->service(), first->service());
  EXPECT_EQ(second->owner(), first->owner());
  EXPECT_EQ(first->owner_path(), dir.path() / "owner.token");

  testing::TempDir other;
  auto elsewhere = LocalTokens::LoadOrCreate(other.path());
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_NE(elsewhere->owner(), first->owner());
}

TEST(LocalTokensTest, LooseModeOrBadContentIsRefusedWithOneLine) {
  testing::TempDir dir;
  ASSERT_TRUE(LocalTokens::LoadOrCreate(dir.path()).ok());
  const fs::path owner = dir.path() / "owner.token";
  ASSERT_EQ(chmod(owner.c_str(), 0644), 0);
  auto loose = LocalTokens::LoadOrCreate(dir.path());
  ASSERT_FALSE(loose.ok());
  EXPECT_EQ(loose.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(loose.status().message(),
            "owner token " + owner.string() +
                ": mode 0644 lets other users read or change the token; run chmod 600 " +
                owner.string() + " (and consider the token exposed if others could read it)");
  auto telec = LocalTokens::LoadTokenFile(owner);
  ASSERT_FALSE(telec.ok());
  EXPECT_EQ(telec.status().code(), absl::StatusCode::kFailedPrecondition);

  ASSERT_EQ(chmod(owner.c_str(), 0600), 0);
  {
    std::ofstream out(owner, std::ios::trunc);
    out << "teleclaude-service-" << std::string(64, 'a') << "\n";  // the wrong role
  }
  auto wrong = LocalTokens::LoadOrCreate(dir.path());
  ASSERT_FALSE(wrong.ok());
  EXPECT_TRUE(absl::StrContains(wrong.status().message(), ": not a token file (expected"))
      << wrong.status();
}

TEST(LocalTokensTest, LoadTokenFileReadsEitherRoleAndSaysWhenThereIsNone) {
  testing::TempDir dir;
  auto tokens = LocalTokens::LoadOrCreate(dir.path());
  ASSERT_TRUE(tokens.ok());
  auto owner = LocalTokens::LoadTokenFile(dir.path() / "owner.token");
  ASSERT_TRUE(owner.ok()) << owner.status();
  EXPECT_EQ(owner->view(), tokens->owner());
  auto service = LocalTokens::LoadTokenFile(dir.path() / "service.token");
  ASSERT_TRUE(service.ok()) << service.status();
  EXPECT_EQ(service->view(), tokens->service());
  auto missing = LocalTokens::LoadTokenFile(dir.path() / "nope.token");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "nope.token: no such file; "));
}

TEST(LocalTokensTest, ChannelAndAuthenticatorCarryTheTokens) {
  testing::TempDir dir;
  auto tokens = LocalTokens::LoadOrCreate(dir.path());
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->ServiceChannel(1234).auth_token, tokens->service());
  EXPECT_EQ(tokens->ServiceChannel(1234).max_message_bytes, 1234);
  auto auth = tokens->Authenticator();
  EXPECT_EQ(auth->Check("/teleclaude.mesh.v1.Installer/OnNotification",
                        "Bearer " + std::string(tokens->service()))
                .role,
            CallerRole::kService);
  EXPECT_EQ(auth->Check("/teleclaude.mesh.v1.Installer/OnNotification",
                        "Bearer " + std::string(tokens->owner()))
                .status.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace teleclaude::mesh
