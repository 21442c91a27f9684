// A file descriptor closed when its owner goes out of scope. Not
// thread-safe (one owner); move-only.
#ifndef TELECLAUDE_MESH_COMMON_BASE_UNIQUE_FD_H_
#define TELECLAUDE_MESH_COMMON_BASE_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace teleclaude::mesh {

class UniqueFd {
 public:
  // Takes ownership of `fd` (negative: owns nothing, e.g. a failed open()).
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) close(fd_);
  }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) close(fd_);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace teleclaude::mesh

#endif  // TELECLAUDE_MESH_COMMON_BASE_UNIQUE_FD_H_
