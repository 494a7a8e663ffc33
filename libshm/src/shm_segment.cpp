#include "shm_segment.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

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

constexpr std::string_view kInitMarker = ".init-";

std::function<void(const std::string&)>& before_publish_hook() {
  static std::function<void(const std::string&)> hook;
  return hook;
}

std::string private_name(const std::string& name) {
  static std::atomic<uint64_t> counter{0};
  return name + std::string(kInitMarker) + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

std::string dir_path(const std::string& file_name) { return std::string(kShmDir) + "/" + file_name; }

/// Private objects of creators that died before linking theirs (a killed daemon's half-made GiB ring).
void remove_abandoned_private_objects(const std::string& name) {
  const std::string prefix = name + std::string(kInitMarker);
  DIR* dir = ::opendir(kShmDir);
  if (dir == nullptr) return;
  std::vector<std::string> dead;
  while (dirent* e = ::readdir(dir)) {
    const std::string n = e->d_name;
    if (n.rfind(prefix, 0) != 0) continue;
    const auto pid = initializing_creator(n);
    if (pid && ::kill(*pid, 0) != 0 && errno == ESRCH) dead.push_back(n);
  }
  ::closedir(dir);
  for (const auto& n : dead) ::unlink(dir_path(n).c_str());
}

}  // namespace

std::optional<pid_t> initializing_creator(const std::string& file_name) {
  const size_t at = file_name.rfind(kInitMarker);
  if (at == std::string::npos) return std::nullopt;
  const std::string rest = file_name.substr(at + kInitMarker.size());  // "<pid>-<n>"
  const size_t dash = rest.find('-');
  if (dash == 0 || dash == std::string::npos || dash + 1 == rest.size() || dash > 9) return std::nullopt;
  if (rest.find_first_not_of("0123456789-") != std::string::npos) return std::nullopt;
  return static_cast<pid_t>(std::stol(rest.substr(0, dash)));
}

void set_before_publish_hook_for_testing(std::function<void(const std::string& name)> hook) {
  before_publish_hook() = std::move(hook);
}

ShmSegment::ShmSegment(ShmSegment&& o) noexcept
    : base_(std::exchange(o.base_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}

ShmSegment& ShmSegment::operator=(ShmSegment&& o) noexcept {
  if (this != &o) {
    reset();
    base_ = std::exchange(o.base_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

ShmSegment::~ShmSegment() { reset(); }

void ShmSegment::reset() noexcept {
  if (base_ != nullptr) ::munmap(base_, bytes_);
  base_ = nullptr;
  bytes_ = 0;
}

ShmSegment::CreateResult ShmSegment::create_published(const std::string& name, uint64_t bytes,
                                                      bool group_shareable,
                                                      const std::function<void(ShmSegment&)>& init,
                                                      ShmSegment& out) {
  shm_path(name);                                  // validates the name
  if (exists(name)) return CreateResult::kExists;  // cheap early answer; link() below decides for real
  remove_abandoned_private_objects(name);
  const std::string tmp = private_name(name);
  const mode_t mode = group_shareable ? 0660 : 0600;
  Fd fd{::shm_open(("/" + tmp).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode)};
  if (fd.fd < 0) throw ShmError("shm segment '" + name + "': cannot create: " + errno_text(errno));
  struct Unlinker {  // the private name never outlives this call
    std::string file;
    ~Unlinker() { ::unlink(file.c_str()); }
  } unlinker{dir_path(tmp)};
  auto fail = [&](const std::string& what, int err) {
    throw ShmError("shm segment '" + name + "': " + what + ": " + errno_text(err));
  };
  if (::fchmod(fd.fd, mode) != 0) fail("fchmod", errno);
  if (::ftruncate(fd.fd, static_cast<off_t>(bytes)) != 0) fail("ftruncate to " + std::to_string(bytes), errno);
  if (const int err = ::posix_fallocate(fd.fd, 0, static_cast<off_t>(bytes)); err != 0) {
    fail("cannot reserve " + std::to_string(bytes) + " bytes (is /dev/shm large enough?)", err);
  }
  // MAP_POPULATE: no page faults on the hot path (the producer's first copy into each slot).
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd.fd, 0);
  if (p == MAP_FAILED) fail("mmap of " + std::to_string(bytes) + " bytes", errno);
  ShmSegment seg;
  seg.base_ = static_cast<std::byte*>(p);
  seg.bytes_ = bytes;
  init(seg);
  if (const auto& hook = before_publish_hook()) hook(name);
  if (::link(dir_path(tmp).c_str(), dir_path(name).c_str()) != 0) {
    if (errno == EEXIST) return CreateResult::kExists;  // another creator won: the caller attaches to theirs
    fail("cannot publish (link from " + tmp + ")", errno);
  }
  out = std::move(seg);
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
  if (st.st_size == 0) return true;  // exists, not sized: not made by this library (or broken)
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
  const std::string path = kShmDir + shm_path(name);
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace peaknet::shm::detail
