// The fixture the disk-full e2e tests share (issue 18 "Disk full"): one real
// computer whose data_dir is a 32 MiB tmpfs the test mounts, a client of its
// redis-server, and what each test reads about it: `telec status`, whether
// every service serves, and the files in the data dir with the space left.
// When the tmpfs cannot be mounted the test is skipped loudly ("NOT RUN:
// reason"; ctest shows it as not run), never passed.
#ifndef TELECLAUDE_MESH_TESTS_E2E_DISK_FULL_COMPUTER_H_
#define TELECLAUDE_MESH_TESTS_E2E_DISK_FULL_COMPUTER_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/redis/redis_client.h"
#include "common/sqlite/database.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_computer.h"
#include "tests/support/redis_server.h"
#include "tests/support/tmpfs_mount.h"
#include "tests/support/wait_for.h"

namespace teleclaude::mesh::e2e {

class DiskFullComputerTest : public ::testing::Test {
 protected:
  // Mounts the tmpfs on `o`'s data dir (redis_url is filled in), launches
  // the computer and waits until it is ready. Skips when mounting is
  // impossible: callers check IsSkipped() after it.
  void LaunchOnTmpfs(ComputerOptions o) {
    o.redis_url = redis_.url();
    computer_ = std::make_unique<Computer>(std::move(o));
    auto mounted = testing::TmpfsMount::Mount(computer_->data_dir(), 32 << 20);
    if (!mounted.ok()) {
      GTEST_SKIP() << "NOT RUN: " << mounted.status().message();
    }
    tmpfs_ = *std::move(mounted);
    client_ = redis_.Client();
    ASSERT_TRUE(computer_->Launch().ok());
    absl::Status ready = computer_->AwaitReady(absl::Seconds(60));
    ASSERT_TRUE(ready.ok()) << ready;
  }

  void TearDown() override {
    if (computer_ != nullptr) computer_->Stop();
    tmpfs_.reset();
  }

  // What `telec status` printed (stdout and stderr), or why it did not run.
  std::string Status() {
    auto r = computer_->Telec({"status"});
    return r.ok() ? absl::StrCat(r->out, r->err) : std::string(r.status().message());
  }
  // Waits until `telec status` prints every one of `parts`; `*status` is
  // the last output read.
  bool AwaitStatusWith(const std::vector<std::string>& parts, absl::Duration timeout,
                       std::string* status) {
    return testing::WaitFor(
        [&] {
          *status = Status();
          for (const std::string& part : parts) {
            if (!absl::StrContains(*status, part)) return false;
          }
          return true;
        },
        timeout, absl::Milliseconds(300));
  }
  // `telec status` ran and found every service serving: no probe fails
  // (neither a writer's "disk full" nor too little free space).
  bool AllServing() {
    auto r = computer_->Telec({"status"});
    return r.ok() && r->exit_code == 0;
  }
  // "name bytes" of each file in the data dir (-1 for what is not a regular
  // file; the test's fill-* files left out), and the space left.
  std::string Files() {
    std::string out;
    std::error_code ec;
    for (const auto& f : std::filesystem::directory_iterator(computer_->data_dir(), ec)) {
      if (absl::StartsWith(f.path().filename().string(), "fill-")) continue;
      absl::StrAppend(&out, f.path().filename().string(), " ",
                      f.is_regular_file(ec) ? static_cast<int64_t>(f.file_size(ec)) : -1, "\n");
    }
    absl::StrAppend(&out, tmpfs_->FreeBytes(), " bytes free\n");
    return out;
  }

  // {rows, distinct values} of `sql` ("SELECT COUNT(*), COUNT(DISTINCT x)
  // FROM ...") on a read-only connection to data_dir/`db`; {-1, -1} when it
  // cannot be read.
  std::pair<int64_t, int64_t> Count(const std::string& db, const std::string& sql) {
    auto opened = Database::Open(absl::StrCat(computer_->data_dir(), "/", db),
                                 DatabaseOptions{.read_only = true});
    if (!opened.ok()) return {-1, -1};
    auto s = (*opened)->Prepare(sql);
    if (!s.ok()) return {-1, -1};
    auto row = s->Step();
    if (!row.ok() || !*row) return {-1, -1};
    return {s->ColumnInt64(0), s->ColumnInt64(1)};
  }

  testing::RedisServer redis_;
  std::unique_ptr<Computer> computer_;
  std::unique_ptr<testing::TmpfsMount> tmpfs_;
  std::unique_ptr<RedisClient> client_;
};

}  // namespace teleclaude::mesh::e2e

#endif  // TELECLAUDE_MESH_TESTS_E2E_DISK_FULL_COMPUTER_H_
