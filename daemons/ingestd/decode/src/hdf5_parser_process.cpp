#include "hdf5_parser_process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "decode_error.hpp"
#include "hdf5_catalog_codec.hpp"

namespace peaknet::ingest {
namespace {

/// Parent -> child: the message lies in the first `size` bytes of the memfd, mapped `capacity` long.
struct Request {
  uint64_t size;
  uint64_t max_bytes;
  uint64_t capacity;
};

constexpr uint64_t kCapacityStep = 16ull << 20;

bool write_all(int fd, const void* data, size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

enum class ReadStatus { kOk, kClosed, kTimedOut };

/// Reads exactly `n` bytes unless the peer closes first or `until` passes.
ReadStatus read_until(int fd, void* data, size_t n, std::chrono::steady_clock::time_point until) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    pollfd pfd{fd, POLLIN, 0};
    const int ready =
        left.count() > 0 ? ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count(), 1 << 30))) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return ReadStatus::kTimedOut;
    const ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return ReadStatus::kClosed;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return ReadStatus::kOk;
}

void close_fd_range(unsigned first, unsigned last) {
  if (first > last) return;
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, first, last, 0) == 0) return;
#endif
  rlimit lim{};
  const unsigned top =
      ::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < 65536 ? static_cast<unsigned>(lim.rlim_cur) : 65536u;
  for (unsigned fd = first; fd <= last && fd < top; ++fd) ::close(static_cast<int>(fd));
}

/// The child inherits every fd of the daemon (sockets, Q1, eventfds): it keeps only its two.
/// (Either may be below 3 when the daemon was started with stdin/stdout closed.)
void close_all_but(int a, int b) {
  unsigned next = 3;
  for (const int keep : {std::min(a, b), std::max(a, b)}) {
    const auto k = static_cast<unsigned>(keep);
    if (k < next) continue;
    if (k > next) close_fd_range(next, k - 1);
    next = k + 1;
  }
  close_fd_range(next, ~0u);
}

std::vector<std::byte> catalog_reply(std::span<const std::byte> message, uint64_t max_bytes) {
  try {
    return encode_catalog(read_hdf5_catalog(message, max_bytes), message);
  } catch (const DecodeError& e) {
    return encode_catalog_failure(e.reason(), e.what());
  } catch (const std::bad_alloc&) {
    return encode_catalog_failure(RejectReason::kOverSizeLimit, "hdf5: out of memory while reading the catalog");
  } catch (const std::exception& e) {
    return encode_catalog_failure(RejectReason::kMalformed, std::string("hdf5: ") + e.what());
  }
}

/// The child: one catalog per request until the parent closes the socket. Only _exit leaves it
/// (no atexit handlers or static destructors of the daemon run here).
[[noreturn]] void child_main(int sock, int memfd) {
  const std::byte* map = nullptr;
  uint64_t mapped = 0;
  for (;;) {
    Request req{};
    if (read_until(sock, &req, sizeof req, std::chrono::steady_clock::time_point::max()) != ReadStatus::kOk) ::_exit(0);
    if (req.capacity != mapped || req.size > req.capacity) {
      if (map) ::munmap(const_cast<std::byte*>(map), mapped);
      void* m = ::mmap(nullptr, req.capacity, PROT_READ, MAP_SHARED, memfd, 0);
      if (m == MAP_FAILED || req.size > req.capacity) ::_exit(3);
      map = static_cast<const std::byte*>(m);
      mapped = req.capacity;
    }
    const std::vector<std::byte> reply = catalog_reply({map, req.size}, req.max_bytes);
    const uint64_t n = reply.size();
    if (!write_all(sock, &n, sizeof n) || !write_all(sock, reply.data(), n)) ::_exit(0);
  }
}

/// Child setup: dies with the parent, default crash signals (no daemon or sanitizer handlers:
/// a crash is the expected way out and the parent reports it), no core files, no other fds.
void become_child(pid_t parent, int sock, int memfd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(0);
  sigset_t none;
  sigemptyset(&none);
  ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM, SIGINT, SIGHUP, SIGALRM, SIGUSR1, SIGUSR2}) {
    ::signal(sig, SIG_DFL);
  }
  ::signal(SIGPIPE, SIG_IGN);
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  close_all_but(sock, memfd);
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  return "status " + std::to_string(status);
}

[[noreturn]] void fail_errno(const char* what) {
  throw std::runtime_error(std::string("hdf5 parser process: ") + what + ": " + std::strerror(errno));
}

}  // namespace

Hdf5ParserProcess::~Hdf5ParserProcess() {
  stop_child();
  if (image_) ::munmap(image_, capacity_);
}

void Hdf5ParserProcess::ensure_capacity(uint64_t bytes) {
  if (!memfd_.valid()) {
    memfd_.reset(::memfd_create("peaknet-hdf5-message", MFD_CLOEXEC));
    if (!memfd_.valid()) fail_errno("memfd_create");
  }
  const uint64_t want = std::max<uint64_t>(kCapacityStep, (bytes + kCapacityStep - 1) / kCapacityStep * kCapacityStep);
  if (want <= capacity_) return;
  if (image_) ::munmap(image_, capacity_);
  image_ = nullptr;
  capacity_ = 0;
  if (::ftruncate(memfd_.get(), static_cast<off_t>(want)) != 0) fail_errno("ftruncate");
  void* m = ::mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_SHARED, memfd_.get(), 0);
  if (m == MAP_FAILED) fail_errno("mmap");
  image_ = static_cast<std::byte*>(m);
  capacity_ = want;
}

void Hdf5ParserProcess::start_child() {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) fail_errno("socketpair");
  common::UniqueFd parent_end(pair[0]), child_end(pair[1]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) fail_errno("fork");
  if (pid == 0) {  // never returns (only _exit leaves the child): no destructor runs there
    become_child(parent, child_end.get(), memfd_.get());
    child_main(child_end.get(), memfd_.get());
  }
  pid_ = pid;
  socket_ = std::move(parent_end);
  ++started_;
}

void Hdf5ParserProcess::fail_child_died() {
  int status = 0;
  bool reaped = false;
  for (int i = 0; i < 100 && !reaped; ++i) {  // it closed the socket by dying: give it 1 s to be reaped
    reaped = ::waitpid(pid_, &status, WNOHANG) == pid_;
    if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (reaped) pid_ = -1;
  stop_child();
  fail(RejectReason::kMalformed, "hdf5: libhdf5 crashed reading this message (" +
                                     (reaped ? describe_exit(status) : std::string("socket closed")) +
                                     " in the parser process, which is replaced)");
}

void Hdf5ParserProcess::stop_child() {
  socket_.reset();
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {}
  }
  pid_ = -1;
}

Hdf5Catalog Hdf5ParserProcess::read_catalog(std::span<const std::byte> message, uint64_t max_bytes,
                                            std::chrono::milliseconds deadline) {
  ensure_capacity(message.size());
  if (!message.empty()) std::memcpy(image_, message.data(), message.size());
  const Request req{message.size(), max_bytes, capacity_};
  // A child found dead before it saw this message (killed from outside, its thread gone) is
  // replaced without blaming the message: one retry.
  for (int attempt = 0;; ++attempt) {
    if (pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      stop_child();
    }
    if (pid_ < 0) start_child();
    if (write_all(socket_.get(), &req, sizeof req)) break;
    stop_child();
    if (attempt > 0) fail_errno("request");
  }

  const auto until = std::chrono::steady_clock::now() + deadline;
  uint64_t length = 0;
  std::vector<std::byte> reply;
  ReadStatus status = read_until(socket_.get(), &length, sizeof length, until);
  if (status == ReadStatus::kOk) {
    if (length > max_bytes + (uint64_t(1) << 32)) {
      stop_child();
      fail(RejectReason::kMalformed, "hdf5 parser reply of " + std::to_string(length) + " bytes");
    }
    reply.resize(length);
    status = read_until(socket_.get(), reply.data(), length, until);
  }
  if (status == ReadStatus::kTimedOut) {
    stop_child();
    fail(RejectReason::kMalformed, "hdf5: libhdf5 did not finish this message's catalog within " +
                                       std::to_string(deadline.count()) + " ms; its parser process was killed");
  }
  if (status == ReadStatus::kClosed) fail_child_died();
  return decode_catalog(reply, message);
}

}  // namespace peaknet::ingest
