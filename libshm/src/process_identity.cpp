#include "process_identity.hpp"

#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace peaknet::shm::detail {

namespace {
constexpr uint64_t kUnreadable = ~uint64_t{0};

// Start time, 0 when gone or a zombie, kUnreadable when /proc hides it (hidepid, other user).
uint64_t read_start_time(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT || errno == ESRCH ? 0 : kUnreadable;
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  const int read_errno = errno;
  ::close(fd);
  if (n <= 0) return n < 0 && read_errno == ESRCH ? 0 : kUnreadable;
  buf[n] = '\0';
  // "pid (comm) S ppid ..." where comm may contain spaces and parentheses: parse after the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr || p[1] != ' ') return kUnreadable;
  p += 2;
  const char state = *p;
  if (state == 'Z' || state == 'X' || state == 'x') return 0;
  // Fields after comm: 3=state ... 22=starttime, i.e. 19 more spaces after the state.
  for (int field = 3; field < 22; ++field) {
    p = std::strchr(p, ' ');
    if (p == nullptr) return kUnreadable;
    ++p;
  }
  char* end = nullptr;
  unsigned long long st = std::strtoull(p, &end, 10);
  if (end == p) return kUnreadable;
  return st == 0 ? 1 : st;  // start time 0 is possible for early processes; keep 0 meaning "dead"
}
}  // namespace

uint64_t process_start_time(pid_t pid) {
  const uint64_t st = read_start_time(pid);
  return st == kUnreadable ? 0 : st;
}

uint64_t make_identity(pid_t pid, uint64_t start_time) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(pid)) << 32) | (start_time & 0xFFFFFFFFull);
}

pid_t identity_pid(uint64_t identity) { return static_cast<pid_t>(identity >> 32); }

namespace {
struct SelfCache {
  pid_t pid = 0;
  uint64_t start_time = 0;
};
thread_local SelfCache t_self;

const SelfCache& self() {
  pid_t pid = ::getpid();
  if (t_self.pid != pid) {
    t_self.pid = pid;
    t_self.start_time = process_start_time(pid);
  }
  return t_self;
}
}  // namespace

uint64_t self_identity() { return make_identity(self().pid, self().start_time); }
uint64_t self_start_time() { return self().start_time; }

bool identity_alive(uint64_t identity) {
  pid_t pid = identity_pid(identity);
  if (pid <= 0) return false;
  if (pid == ::getpid()) return true;
  const uint64_t st = read_start_time(pid);
  if (st == 0) return false;
  // /proc hides other users' processes (hidepid): fall back to "the pid exists". Never declare a user
  // dead without proof, or its slots would be taken from under it.
  if (st == kUnreadable) return !(::kill(pid, 0) != 0 && errno == ESRCH);
  return (st & 0xFFFFFFFFull) == (identity & 0xFFFFFFFFull);
}

static uint64_t clock_ns(clockid_t id) {
  timespec ts{};
  ::clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
uint64_t monotonic_ns() { return clock_ns(CLOCK_MONOTONIC); }
uint64_t monotonic_coarse_ns() { return clock_ns(CLOCK_MONOTONIC_COARSE); }
uint64_t realtime_ns() { return clock_ns(CLOCK_REALTIME); }

}  // namespace peaknet::shm::detail
