// UniqueFd closes its descriptor exactly once: at scope exit, on reset, and never after release().
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include <gtest/gtest.h>

#include "common/unique_fd.hpp"

namespace peaknet::common {
namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

int open_devnull() {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  return fd;
}

TEST(CommonUniqueFd, ClosesAtScopeExit) {
  int raw = -1;
  {
    const UniqueFd sut(open_devnull());
    raw = sut.get();
    EXPECT_TRUE(sut.valid());
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_FALSE(is_open(raw));
}

TEST(CommonUniqueFd, MoveHandsOwnershipOverAndResetClosesTheOldOne) {
  UniqueFd first(open_devnull());
  const int raw = first.get();
  UniqueFd sut(std::move(first));
  EXPECT_FALSE(first.valid());
  EXPECT_EQ(sut.get(), raw);
  const int next = open_devnull();
  sut.reset(next);
  EXPECT_FALSE(is_open(raw));
  EXPECT_TRUE(is_open(next));
  sut = UniqueFd();
  EXPECT_FALSE(is_open(next));
}

TEST(CommonUniqueFd, ReleasedDescriptorStaysOpen) {
  int raw = -1;
  {
    UniqueFd sut(open_devnull());
    raw = sut.release();
    EXPECT_FALSE(sut.valid());
  }
  EXPECT_TRUE(is_open(raw));
  ::close(raw);
}

}  // namespace
}  // namespace peaknet::common
