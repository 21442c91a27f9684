#include "common/identity/identity_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/common/identity/test_keys.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const fs::path& p, const std::string& text, mode_t mode) {
  std::ofstream(p, std::ios::binary) << text;
  ASSERT_EQ(chmod(p.c_str(), mode), 0);
}

mode_t ModeOf(const fs::path& p) {
  struct stat st;
  EXPECT_EQ(lstat(p.c_str(), &st), 0);
  return st.st_mode & 07777;
}

std::vector<std::string> FilesIn(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

class IdentityKeyTest : public ::testing::Test {
 protected:
  TempDir dir_;
  fs::path path_ = IdentityKey::PathIn(dir_.path());
};

TEST_F(IdentityKeyTest, CreatesAPrivateKeyFileOnFirstStartAndLoadsItAfter) {
  EXPECT_EQ(path_, dir_.path() / "identity.key");
  auto created = IdentityKey::LoadOrCreate(path_);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(ModeOf(path_), 0600);
  const std::string text = ReadFile(path_);
  EXPECT_TRUE(absl::StartsWith(text, "teleclaude-mesh identity v1 ed25519 ")) << text;
  EXPECT_TRUE(absl::EndsWith(text, "\n"));
  EXPECT_EQ(FilesIn(dir_.path()), std::vector<std::string>{"identity.key"});

  auto loaded = IdentityKey::LoadOrCreate(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->public_key(), (*created)->public_key());
  EXPECT_EQ(ReadFile(path_), text);  // loading never rewrites the file
}

TEST_F(IdentityKeyTest, ReadsTheDocumentedFileFormat) {
  const std::string seed = testing::FromHex(testing::kAlphaSeedHex);
  WriteFile(path_, "teleclaude-mesh identity v1 ed25519 " + absl::Base64Escape(seed) + "\n", 0600);
  auto key = IdentityKey::LoadOrCreate(path_);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(testing::ToHex((*key)->public_key().bytes()), testing::kAlphaPublicKeyHex);
  EXPECT_EQ((*key)->fingerprint().ToString(), testing::kAlphaFingerprint);
}

TEST_F(IdentityKeyTest, CreatedFileIs0600WhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{0777}}) {
    fs::remove(path_);
    const mode_t old = umask(mask);
    auto key = IdentityKey::LoadOrCreate(path_);
    umask(old);
    ASSERT_TRUE(key.ok()) << "umask " << mask << ": " << key.status();
    EXPECT_EQ(ModeOf(path_), 0600) << "umask " << mask;
  }
}

TEST_F(IdentityKeyTest, RefusesAKeyFileOtherUsersCanReadOrWrite) {
  ASSERT_TRUE(IdentityKey::LoadOrCreate(path_).ok());
  for (mode_t mode : {0644, 0640, 0604, 0602, 0660}) {
    ASSERT_EQ(chmod(path_.c_str(), mode), 0);
    auto key = IdentityKey::LoadOrCreate(path_);
    ASSERT_FALSE(key.ok()) << mode;
    EXPECT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition);
    char octal[8];
    std::snprintf(octal, sizeof(octal), "%04o", mode);
    EXPECT_EQ(key.status().message(),
              "identity key " + path_.string() + ": mode " + octal +
                  " lets other users read or change the private key; run chmod 600 " +
                  path_.string() + " (and consider the key exposed if others could read it)");
  }
  ASSERT_EQ(chmod(path_.c_str(), 0400), 0);  // read-only for the owner is fine
  EXPECT_TRUE(IdentityKey::LoadOrCreate(path_).ok());
}

TEST_F(IdentityKeyTest, RefusesAKeyFileOwnedBySomeoneElse) {
  ASSERT_TRUE(IdentityKey::LoadOrCreate(path_).ok());
  const uid_t other = geteuid() + 4242;
  auto key = IdentityKey::LoadOrCreate(path_, other);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(key.status().message(), "identity key " + path_.string() + ": owned by uid " +
                                        std::to_string(geteuid()) + ", not by this user (uid " +
                                        std::to_string(other) +
                                        "); run the services as its owner, or chown " +
                                        std::to_string(other) + " " + path_.string());
}

TEST_F(IdentityKeyTest, RefusesASymbolicLinkAndADirectory) {
  const fs::path real = dir_.path() / "elsewhere.key";
  ASSERT_TRUE(IdentityKey::LoadOrCreate(real).ok());
  fs::create_symlink(real, path_);
  auto linked = IdentityKey::LoadOrCreate(path_);
  ASSERT_FALSE(linked.ok());
  EXPECT_TRUE(absl::StrContains(linked.status().message(), ": is a symbolic link; "))
      << linked.status();
  fs::remove(path_);
  fs::create_directory(path_);
  auto dir = IdentityKey::LoadOrCreate(path_);
  ASSERT_FALSE(dir.ok());
  EXPECT_TRUE(absl::StrContains(dir.status().message(), ": not a regular file; ")) << dir.status();
}

TEST_F(IdentityKeyTest, RefusesAMalformedFileAndNeverReplacesIt) {
  const std::string seed_b64 = absl::Base64Escape(testing::FromHex(testing::kAlphaSeedHex));
  for (std::string text :
       {std::string(), std::string("garbage\n"),
        "teleclaude-mesh identity v2 ed25519 " + seed_b64 + "\n",
        "teleclaude-mesh identity v1 ed25519 " + seed_b64.substr(1) + "\n",
        "teleclaude-mesh identity v1 ed25519 " + seed_b64 + "\n\n",
        "teleclaude-mesh identity v1 ed25519 " + seed_b64 + std::string(300, ' ')}) {
    WriteFile(path_, text, 0600);
    auto key = IdentityKey::LoadOrCreate(path_);
    ASSERT_FALSE(key.ok()) << text;
    EXPECT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(absl::StrContains(key.status().message(), ": not an identity key file (expected"))
        << key.status();
    EXPECT_EQ(std::string(key.status().message()).find('\n'), std::string::npos);
    EXPECT_EQ(ReadFile(path_), text);
  }
}

// Processes starting at the same moment (egress, ingress and installer on a
// fresh data dir) end with one key: the first rename wins, the others load it.
TEST_F(IdentityKeyTest, ConcurrentFirstStartsEndWithOneKey) {
  constexpr int kProcesses = 8;
  int go[2], results[2];
  ASSERT_EQ(pipe(go), 0);
  ASSERT_EQ(pipe(results), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(go[1]);
      char c;
      // Wait until the parent closes its end: all start together.
      while (read(go[0], &c, 1) > 0) {
      }
      auto key = IdentityKey::LoadOrCreate(path_);
      std::string line = key.ok() ? (*key)->fingerprint().ToString() : std::string("error");
      line.resize(Fingerprint::kTextLength, '?');
      (void)!write(results[1], line.data(), line.size());
      _exit(key.ok() ? 0 : 1);
    }
    children.push_back(pid);
  }
  close(go[0]);
  close(results[1]);
  close(go[1]);  // release them all
  std::set<std::string> fingerprints;
  char buf[Fingerprint::kTextLength];
  size_t got = 0;
  ssize_t n;
  while ((n = read(results[0], buf + got, sizeof(buf) - got)) > 0) {
    got += static_cast<size_t>(n);
    if (got == sizeof(buf)) {
      fingerprints.insert(std::string(buf, sizeof(buf)));
      got = 0;
    }
  }
  close(results[0]);
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto final_key = IdentityKey::LoadOrCreate(path_);
  ASSERT_TRUE(final_key.ok()) << final_key.status();
  EXPECT_EQ(fingerprints, std::set<std::string>{(*final_key)->fingerprint().ToString()});
  EXPECT_EQ(FilesIn(dir_.path()), std::vector<std::string>{"identity.key"});
}

TEST_F(IdentityKeyTest, AgreementIsSymmetric) {
  auto alpha = testing::AlphaKey();
  auto beta = testing::BetaKey();
  auto ab = alpha->Agree(beta->public_key());
  auto ba = beta->Agree(alpha->public_key());
  ASSERT_TRUE(ab.ok() && ba.ok());
  EXPECT_EQ(*ab, *ba);
}

}  // namespace
}  // namespace teleclaude::mesh
