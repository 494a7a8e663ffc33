#include "shm_segment.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/interprocess/permissions.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "shm/shm_error.hpp"

// link(2) of the private name into kShmDir needs Boost's objects to be shm_open()'s files in /dev/shm.
#if !defined(BOOST_INTERPROCESS_POSIX_SHARED_MEMORY_OBJECTS) || \
    defined(BOOST_INTERPROCESS_FILESYSTEM_BASED_POSIX_SHARED_MEMORY)
#error "libshm needs Boost.Interprocess on POSIX shm_open (segments are published with link(2) in /dev/shm)"
#endif

namespace peaknet::shm::detail {

namespace bip = boost::interprocess;

std::string errno_text(int err) { return std::string(std::strerror(err)); }

std::string shm_path(const std::string& name) {
  if (name.empty() || name.size() > 200 || name.find('/') != std::string::npos || name == "." || name == "..") {
    throw ShmError("shm segment '" + name + "': invalid name (1..200 characters, no '/')");
  }
  return "/" + name;
}

namespace {

/// ShmError "shm segment '<name>': <what>: <cause>" for a Boost.Interprocess failure; the cause is the
/// errno text (strerror, as before Boost) or, for Boost's own checks, its error code.
[[noreturn]] void throw_shm_error(const std::string& name, const std::string& what,
                                  const bip::interprocess_exception& e) {
  const int err = e.get_native_error();
  throw ShmError("shm segment '" + name + "': " + what + ": " +
                 (err != 0 ? errno_text(err)
                           : std::string(e.what()) + " (error code " + std::to_string(e.get_error_code()) + ")"));
}

/// Runs `f` (a Boost.Interprocess call) and turns its exception into throw_shm_error's ShmError.
template <typename F>
auto boost_call(const std::string& name, const std::string& what, F&& f) {
  try {
    return f();
  } catch (const bip::interprocess_exception& e) {
    throw_shm_error(name, what, e);
  }
}

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
  for (const auto& n : dead) bip::shared_memory_object::remove(n.c_str());
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

ShmSegment::CreateResult ShmSegment::create_published(const std::string& name, uint64_t bytes, bool group_shareable,
                                                      const std::function<void(ShmSegment&)>& init, ShmSegment& out) {
  shm_path(name);                                  // validates the name
  if (exists(name)) return CreateResult::kExists;  // cheap early answer; link() below decides for real
  remove_abandoned_private_objects(name);
  const std::string tmp = private_name(name);
  const bip::permissions mode(group_shareable ? 0660 : 0600);
  bip::shared_memory_object obj = boost_call(name, "cannot create", [&] {
    return bip::shared_memory_object(bip::create_only, tmp.c_str(), bip::read_write, mode);
  });
  const bip::remove_shared_memory_on_destroy unlinker(tmp.c_str());  // the private name never outlives this call
  boost_call(name, "ftruncate to " + std::to_string(bytes), [&] { obj.truncate(static_cast<bip::offset_t>(bytes)); });
  // Not in Boost: reserve the pages now, so a full /dev/shm fails here and not as a SIGBUS on first touch.
  if (const int err = ::posix_fallocate(obj.get_mapping_handle().handle, 0, static_cast<off_t>(bytes)); err != 0) {
    throw ShmError("shm segment '" + name + "': cannot reserve " + std::to_string(bytes) +
                   " bytes (is /dev/shm large enough?): " + errno_text(err));
  }
  ShmSegment seg;
  // MAP_POPULATE through mapped_region's map_options (mmap flags, OR-ed with MAP_SHARED): no page faults
  // on the hot path (the producer's first copy into each slot).
  seg.region_ = boost_call(name, "mmap of " + std::to_string(bytes) + " bytes",
                           [&] { return bip::mapped_region(obj, bip::read_write, 0, bytes, nullptr, MAP_POPULATE); });
  init(seg);
  if (const auto& hook = before_publish_hook()) hook(name);
  // Not in Boost (no link or rename of shm objects): the atomic publish of docs/decisions/0003.
  if (::link(dir_path(tmp).c_str(), dir_path(name).c_str()) != 0) {
    if (errno == EEXIST) return CreateResult::kExists;  // another creator won: the caller attaches to theirs
    throw ShmError("shm segment '" + name + "': cannot publish (link from " + tmp + "): " + errno_text(errno));
  }
  out = std::move(seg);
  return CreateResult::kCreated;
}

bool ShmSegment::open_existing(const std::string& name, bool read_only, ShmSegment& out) {
  shm_path(name);  // validates the name
  const bip::mode_t access = read_only ? bip::read_only : bip::read_write;
  bip::shared_memory_object obj;
  try {
    obj = bip::shared_memory_object(bip::open_only, name.c_str(), access);
  } catch (const bip::interprocess_exception& e) {
    if (e.get_native_error() == ENOENT) return false;
    throw_shm_error(name, "cannot open", e);
  }
  bip::offset_t size = 0;
  if (!obj.get_size(size)) throw ShmError("shm segment '" + name + "': fstat: " + errno_text(errno));
  out = ShmSegment();
  if (size == 0) return true;  // exists, not sized: not made by this library (or broken)
  const uint64_t bytes = static_cast<uint64_t>(size);
  // Read-only views (list, peakctl) map lazily; working handles populate like the creator.
  out.region_ = boost_call(name, "mmap of " + std::to_string(bytes) + " bytes", [&] {
    return bip::mapped_region(obj, access, 0, bytes, nullptr, read_only ? 0 : MAP_POPULATE);
  });
  return true;
}

void ShmSegment::unlink(const std::string& name) {
  shm_path(name);  // validates the name
  if (bip::shared_memory_object::remove(name.c_str())) return;
  const int err = errno;  // remove() reports only a bool; errno is its shm_unlink's
  if (err != ENOENT) throw ShmError("shm segment '" + name + "': cannot unlink: " + errno_text(err));
}

bool ShmSegment::exists(const std::string& name) {
  const std::string path = kShmDir + shm_path(name);
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace peaknet::shm::detail
