#include "common/unique_fd.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace peaknet::common {

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0 && ::close(fd_) != 0 && errno != EINTR) {  // Linux frees the fd even on EINTR
    const int err = errno;
    try {
      spdlog::warn("close(fd {}): {}", fd_, std::strerror(err));
    } catch (...) {}
  }
  fd_ = fd;
}

}  // namespace peaknet::common
