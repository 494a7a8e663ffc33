// Ring::link_problem: is /dev/shm/<name> still the segment this handle maps? A handle that kept
// waiting on a segment which was unlinked or replaced under it (another process re-created the ring)
// talks to nobody: its events reach no consumer, its claims see no producer (issue 20's hang).
//
// The mapping's own identity (device, inode) comes from /proc/self/maps, read once per handle; every
// check stats the name and compares. Only the inode counts, never the path or " (deleted)" in maps: a
// creator maps its segment under a private name that is unlinked once the segment is linked at
// <name> (ShmSegment::create_published), so its maps line always says deleted. tmpfs hands out inode
// numbers from a global counter, so a re-created segment never has the old one's inode.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "ring_impl.hpp"

namespace peaknet::shm {
namespace {

struct MappedFile {
  bool found = false;
  uint64_t dev = 0, ino = 0;
};

// The /proc/self/maps entry that starts at `base`.
MappedFile mapped_file_at(const void* base) {
  MappedFile out;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  const auto start = reinterpret_cast<uintptr_t>(base);
  while (std::getline(maps, line)) {
    uintptr_t lo = 0, hi = 0;
    unsigned major = 0, minor = 0;
    uint64_t ino = 0, offset = 0;
    char perms[8] = {};
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR " %7s %" SCNx64 " %x:%x %" SCNu64 " %n", &lo, &hi, perms,
                    &offset, &major, &minor, &ino, &path_at) < 7 ||
        lo != start) {
      continue;
    }
    out.found = true;
    out.dev = makedev(major, minor);
    out.ino = ino;
    break;
  }
  return out;
}

}  // namespace

std::string RingImpl::link_problem() const {
  std::call_once(link_once_, [this] {
    const MappedFile m = mapped_file_at(header_);
    mapped_known_ = m.found;
    mapped_dev_ = m.dev;
    mapped_ino_ = m.ino;
  });
  const std::string prefix = "shm segment '" + name_ + "': ";
  struct stat st {};
  if (::stat(("/dev/shm/" + name_).c_str(), &st) != 0) {
    if (errno == ENOENT) return prefix + "unlinked under this process (/dev/shm/" + name_ + " no longer exists)";
    return {};  // cannot tell (permissions): do not cry wolf
  }
  if (!mapped_known_) return {};
  if (uint64_t(st.st_ino) != mapped_ino_ || uint64_t(st.st_dev) != mapped_dev_) {
    return prefix + "replaced under this process (/dev/shm/" + name_ + " is inode " + std::to_string(st.st_ino) +
           ", this process maps inode " + std::to_string(mapped_ino_) + ")";
  }
  return {};
}

std::string Ring::link_problem() const { return impl_->link_problem(); }

}  // namespace peaknet::shm
