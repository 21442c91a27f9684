#include "common/grpc/database_probe.h"

#include <sqlite3.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"

namespace teleclaude::mesh {
namespace {

// Closes the connection whatever happens.
struct Connection {
  sqlite3* db = nullptr;
  ~Connection() { sqlite3_close_v2(db); }
};

}  // namespace

DatabaseProbe::DatabaseProbe(Options options) : options_(std::move(options)) {}

absl::Status DatabaseProbe::Check() {
  const std::string& path = options_.path;
  const std::string dir = std::filesystem::path(path).parent_path().string();
  struct statvfs fs;
  if (statvfs(dir.empty() ? "." : dir.c_str(), &fs) == 0) {
    // What this process may still use (root may use the reserved blocks).
    const uint64_t blocks = geteuid() == 0 ? fs.f_bfree : fs.f_bavail;
    const uint64_t free_bytes = blocks * fs.f_frsize;
    if (free_bytes < static_cast<uint64_t>(options_.min_free_bytes)) {
      return absl::ResourceExhaustedError(
          absl::StrCat("no space left for ", path, ": ", free_bytes / 1024, " KiB free"));
    }
  }
  Connection c;
  int rc =
      sqlite3_open_v2(path.c_str(), &c.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return absl::UnavailableError(absl::StrCat(
        path, " cannot be opened: ", c.db != nullptr ? sqlite3_errmsg(c.db) : sqlite3_errstr(rc)));
  }
  if (sqlite3_db_readonly(c.db, "main") == 1) {
    return absl::FailedPreconditionError(
        absl::StrCat(path,
                     " can only be opened read-only (the file, its directory or the file system is "
                     "not writable)"));
  }
  sqlite3_busy_timeout(c.db, static_cast<int>(absl::ToInt64Milliseconds(options_.timeout)));
  char* error = nullptr;
  rc = sqlite3_exec(c.db, "BEGIN IMMEDIATE", nullptr, nullptr, &error);
  std::string message = error != nullptr ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  if (rc != SQLITE_OK) {
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      return absl::UnavailableError(absl::StrCat(path,
                                                 " is locked by another writer for more than ",
                                                 absl::FormatDuration(options_.timeout)));
    }
    return absl::UnavailableError(absl::StrCat(path, " cannot be written: ", message));
  }
  sqlite3_exec(c.db, "ROLLBACK", nullptr, nullptr, nullptr);
  return absl::OkStatus();
}

}  // namespace teleclaude::mesh
