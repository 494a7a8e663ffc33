#pragma once
// NotifyListener: the NOTIFY_SOCKET of one daemon under test, read like systemd would. A unix datagram
// socket in the test's temp dir; a thread records every datagram with its arrival time (steady clock).
// Export it to one child only: set_env() right before spawning it, clear_env() right after.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace peaknet::watchdog_test {

using Clock = std::chrono::steady_clock;

struct Notification {
  Clock::time_point at;
  std::string text;
};

class NotifyListener {
 public:
  explicit NotifyListener(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof addr.sun_path) throw std::runtime_error("notify socket path too long: " + path_);
    path_.copy(addr.sun_path, sizeof addr.sun_path - 1);
    ::unlink(path_.c_str());
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("cannot bind notify socket " + path_);
    }
    timeval tv{0, 100000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    reader_ = std::thread([this] {
      char buf[4096];
      while (!stop_.load()) {
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) continue;
        std::lock_guard lock(mu_);
        seen_.push_back({Clock::now(), std::string(buf, size_t(n))});
      }
    });
  }
  ~NotifyListener() {
    stop_.store(true);
    reader_.join();
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  NotifyListener(const NotifyListener&) = delete;
  NotifyListener& operator=(const NotifyListener&) = delete;

  /// NOTIFY_SOCKET + WATCHDOG_USEC for the next spawned child.
  void set_env(std::chrono::microseconds watchdog) const {
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    ::setenv("WATCHDOG_USEC", std::to_string(watchdog.count()).c_str(), 1);
    ::unsetenv("WATCHDOG_PID");
  }
  static void clear_env() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
  }

  std::vector<Notification> all() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  bool received(const std::string& text) const {
    std::lock_guard lock(mu_);
    return std::any_of(seen_.begin(), seen_.end(),
                       [&](const Notification& n) { return n.text.find(text) != std::string::npos; });
  }
  /// Times of the WATCHDOG=1 pets received in [from, to].
  std::vector<Clock::time_point> pets(Clock::time_point from, Clock::time_point to) const {
    std::vector<Clock::time_point> out;
    std::lock_guard lock(mu_);
    for (const auto& n : seen_) {
      if (n.text.find("WATCHDOG=1") != std::string::npos && n.at >= from && n.at <= to) out.push_back(n.at);
    }
    return out;
  }
  /// The longest time in [from, to] without a pet (the edges count: a window without pets is one gap).
  std::chrono::milliseconds longest_gap(Clock::time_point from, Clock::time_point to) const {
    auto last = from;
    Clock::duration worst{0};
    for (const auto t : pets(from, to)) {
      worst = std::max(worst, t - last);
      last = t;
    }
    worst = std::max(worst, to - last);
    return std::chrono::duration_cast<std::chrono::milliseconds>(worst);
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<Notification> seen_;
  std::thread reader_;
};

}  // namespace peaknet::watchdog_test
