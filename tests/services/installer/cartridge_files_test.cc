#include "services/installer/cartridge_files.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/services/installer/installer_test_util.h"
#include "tests/support/temp_dir.h"

namespace teleclaude::mesh {
namespace {

using ::teleclaude::mesh::testing::FilesUnder;
using ::teleclaude::mesh::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Place = CartridgeFiles::Place;

class CartridgeFilesTest : public ::testing::Test {
 protected:
  std::filesystem::path data() const { return dir_.path() / "data"; }
  std::filesystem::path active() const { return data() / "cartridges"; }
  std::filesystem::path incoming() const { return data() / "cartridges" / "incoming"; }
  absl::StatusOr<CartridgeFiles> OpenFiles() {
    return CartridgeFiles::Open(data(), active(), incoming());
  }
  TempDir dir_;
};

TEST_F(CartridgeFilesTest, WritesReadsListsAndRemoves) {
  auto files = OpenFiles();
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_TRUE(files->Write(Place::kIncoming, "ping", "lua", "return 1").ok());
  ASSERT_TRUE(files->Write(Place::kIncoming, "ping", "lua", "return 2").ok());  // replaces
  ASSERT_TRUE(files->Write(Place::kActive, "pong", "lua", "return 3").ok());
  EXPECT_EQ(*files->Read(Place::kIncoming, "ping", "lua"), "return 2");
  EXPECT_EQ(*files->Read(Place::kActive, "pong", "lua"), "return 3");
  EXPECT_EQ(files->Read(Place::kActive, "ping", "lua").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(*files->List(Place::kIncoming), ElementsAre("ping"));
  EXPECT_THAT(FilesUnder(data()),
              ElementsAre("cartridges/incoming/ping.lua", "cartridges/pong.lua"));
  struct stat st;
  ASSERT_EQ(stat((incoming() / "ping.lua").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_TRUE(files->Remove(Place::kIncoming, "ping", "lua").ok());
  ASSERT_TRUE(files->Remove(Place::kIncoming, "ping", "lua").ok());  // already gone: OK
  EXPECT_THAT(FilesUnder(data()), ElementsAre("cartridges/pong.lua"));
}

TEST_F(CartridgeFilesTest, RefusesBadNamesAndRuntimes) {
  auto files = OpenFiles();
  ASSERT_TRUE(files.ok()) << files.status();
  for (const char* bad : {"../../x", "../x", "A", "", ".hidden", "a/b"}) {
    absl::Status s = files->Write(Place::kIncoming, bad, "lua", "x");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(files->Write(Place::kIncoming, "ok", "wasm", "x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FilesUnder(dir_.path()), ::testing::IsEmpty());
}

TEST_F(CartridgeFilesTest, RefusesADirectorySymlinkedOutOfTheDataDir) {
  TempDir outside;
  std::filesystem::create_directories(data());
  std::filesystem::create_directories(active());
  std::filesystem::create_directory_symlink(outside.path(), incoming());
  auto files = OpenFiles();
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(files.status().message(), HasSubstr("outside the data dir"));

  // Swapped for a symlink after opening: refused at write time.
  std::filesystem::remove(incoming());
  std::filesystem::create_directories(incoming());
  auto opened = OpenFiles();
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::filesystem::remove(incoming());
  std::filesystem::create_directory_symlink(outside.path(), incoming());
  absl::Status s = opened->Write(Place::kIncoming, "x", "lua", "return 1");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(FilesUnder(outside.path()), ::testing::IsEmpty());
}

TEST_F(CartridgeFilesTest, AllowsASymlinkThatStaysInsideTheDataDir) {
  std::filesystem::create_directories(data() / "elsewhere");
  std::filesystem::create_directories(active());
  std::filesystem::create_directory_symlink(data() / "elsewhere", incoming());
  auto files = OpenFiles();
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_TRUE(files->Write(Place::kIncoming, "x", "lua", "return 1").ok());
  EXPECT_TRUE(std::filesystem::exists(data() / "elsewhere" / "x.lua"));
}

TEST_F(CartridgeFilesTest, DoesNotFollowASymlinkAtTheFileName) {
  TempDir outside;
  auto files = OpenFiles();
  ASSERT_TRUE(files.ok()) << files.status();
  std::filesystem::path target = outside.path() / "victim";
  { std::ofstream(target) << "keep"; }
  std::filesystem::create_symlink(target, active() / "x.lua");
  // Reading through the link is refused; writing replaces the link itself.
  EXPECT_FALSE(files->Read(Place::kActive, "x", "lua").ok());
  ASSERT_TRUE(files->Write(Place::kActive, "x", "lua", "return 1").ok());
  EXPECT_FALSE(std::filesystem::is_symlink(active() / "x.lua"));
  std::ifstream in(target);
  std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, "keep");
}

}  // namespace
}  // namespace teleclaude::mesh
