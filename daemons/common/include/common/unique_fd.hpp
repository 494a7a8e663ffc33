#pragma once
// UniqueFd: owns one file descriptor and closes it when it goes out of scope (every return and
// throw path), like std::unique_ptr for a pointer. Move-only; -1 means "none". Not for a forked
// child about to exec (it closes ranges by number).
#include <utility>

namespace peaknet::common {

class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  /// Hands the descriptor over (this no longer closes it).
  int release() noexcept { return std::exchange(fd_, -1); }
  /// Closes the current descriptor (a failing close is logged: the descriptor is gone either way)
  /// and takes `fd`.
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

}  // namespace peaknet::common
