#include "shm_segment.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "shm/shm_error.hpp"

namespace peaknet::shm::detail {

std::string errno_text(int err) { return std::string(std::strerror(err)); }

std::string shm_path(const std::string& name) {
  if (name.empty() || name.size() > 200 || name.find('/') != std::string::npos || name == "." ||
      name == "..") {
    throw ShmError("shm segment '" + name + "': invalid name (1..200 characters, no '/')");
  }
  return "/" + name;
}

namespace {
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

ShmSegment::ShmSegment(ShmSegment&& o) noexcept
    : base_(std::exchange(o.base_, nullptr)), bytes_(std::exchange(o.bytes_, 0)),
      fd_(std::exchange(o.fd_, -1)) {}

ShmSegment& ShmSegment::operator=(ShmSegment&& o) noexcept {
  if (this != &o) {
    reset();
    base_ = std::exchange(o.base_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

ShmSegment::~ShmSegment() { reset(); }

void ShmSegment::reset() noexcept {
  if (base_ != nullptr) ::munmap(base_, bytes_);
  if (fd_ >= 0) ::close(fd_);
  base_ = nullptr;
  bytes_ = 0;
  fd_ = -1;
}

void ShmSegment::reserve(const std::string& name) {
  if (fd_ < 0) return;
  int err = ::posix_fallocate(fd_, 0, static_cast<off_t>(bytes_));
  ::close(fd_);
  fd_ = -1;
  if (err != 0) {
    ::shm_unlink(shm_path(name).c_str());
    throw ShmError("shm segment '" + name + "': cannot reserve " + std::to_string(bytes_) +
                   " bytes (is /dev/shm large enough?): " + errno_text(err));
  }
}

ShmSegment::CreateResult ShmSegment::create_exclusive(const std::string& name, uint64_t bytes,
                                                      bool group_shareable, ShmSegment& out) {
  const std::string path = shm_path(name);
  const mode_t mode = group_shareable ? 0660 : 0600;
  Fd fd{::shm_open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode)};
  if (fd.fd < 0) {
    if (errno == EEXIST) return CreateResult::kExists;
    throw ShmError("shm segment '" + name + "': cannot create: " + errno_text(errno));
  }
  auto fail = [&](const std::string& what, int err) {
    ::shm_unlink(path.c_str());
    throw ShmError("shm segment '" + name + "': " + what + ": " + errno_text(err));
  };
  if (::fchmod(fd.fd, mode) != 0) fail("fchmod", errno);
  if (::ftruncate(fd.fd, static_cast<off_t>(bytes)) != 0) fail("ftruncate to " + std::to_string(bytes), errno);
  // MAP_POPULATE: no page faults on the hot path (the producer's first copy into each slot).
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd.fd, 0);
  if (p == MAP_FAILED) fail("mmap of " + std::to_string(bytes) + " bytes", errno);
  out = ShmSegment();
  out.base_ = static_cast<std::byte*>(p);
  out.bytes_ = bytes;
  out.fd_ = std::exchange(fd.fd, -1);
  return CreateResult::kCreated;
}

bool ShmSegment::open_existing(const std::string& name, bool read_only, ShmSegment& out) {
  const std::string path = shm_path(name);
  Fd fd{::shm_open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC, 0)};
  if (fd.fd < 0) {
    if (errno == ENOENT) return false;
    throw ShmError("shm segment '" + name + "': cannot open: " + errno_text(errno));
  }
  struct stat st{};
  if (::fstat(fd.fd, &st) != 0) {
    throw ShmError("shm segment '" + name + "': fstat: " + errno_text(errno));
  }
  out = ShmSegment();
  if (st.st_size == 0) return true;  // exists, not sized yet (creator still initializing, or broken)
  const uint64_t bytes = static_cast<uint64_t>(st.st_size);
  // Read-only views (list, peakctl) map lazily; working handles populate like the creator.
  void* p = ::mmap(nullptr, bytes, read_only ? PROT_READ : PROT_READ | PROT_WRITE,
                   read_only ? MAP_SHARED : MAP_SHARED | MAP_POPULATE, fd.fd, 0);
  if (p == MAP_FAILED) {
    throw ShmError("shm segment '" + name + "': mmap of " + std::to_string(bytes) +
                   " bytes: " + errno_text(errno));
  }
  out.base_ = static_cast<std::byte*>(p);
  out.bytes_ = bytes;
  return true;
}

void ShmSegment::unlink(const std::string& name) {
  const std::string path = shm_path(name);
  if (::shm_unlink(path.c_str()) != 0 && errno != ENOENT) {
    throw ShmError("shm segment '" + name + "': cannot unlink: " + errno_text(errno));
  }
}

bool ShmSegment::exists(const std::string& name) {
  const std::string path = "/dev/shm" + shm_path(name);
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace peaknet::shm::detail
