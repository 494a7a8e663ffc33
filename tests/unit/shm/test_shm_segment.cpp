// Segment plumbing (create/open/map/unlink through Boost.Interprocess, docs/decisions/0005): a system
// failure is a ShmError naming the segment and the cause, no descriptor outlives the mapping, the mode
// (0600 / 0660) ignores the umask, and working handles are mapped populated (MAP_POPULATE passed as
// mapped_region's map options).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "shm_test_support.hpp"

namespace peaknet::shm {
namespace {

using testing::ShmGuard;
using testing::unique_name;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ShmError& e) {
    return e.what();
  }
  return "";
}

/// Descriptors of this process open on /dev/shm/<prefix>*.
std::vector<std::string> open_fds_on(const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(e.path(), ec).string();
    if (!ec && target.rfind("/dev/shm/" + prefix, 0) == 0) out.push_back(target);
  }
  return out;
}

struct MappingSize {
  uint64_t size_kb = 0, rss_kb = 0;
};

/// Size and Rss (pages mapped into this process) of the /proc/self/smaps entry holding `p`.
MappingSize mapping_holding(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  const auto at = reinterpret_cast<uintptr_t>(p);
  bool in_entry = false;
  MappingSize m;
  while (std::getline(smaps, line)) {
    uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      if (in_entry) break;
      in_entry = lo <= at && at < hi;
      continue;
    }
    if (!in_entry) continue;
    std::istringstream kv(line);
    std::string key;
    uint64_t kb = 0;
    kv >> key >> kb;
    if (key == "Size:") m.size_kb = kb;
    if (key == "Rss:") m.rss_kb = kb;
  }
  return m;
}

TEST(ShmSegment, AFailureFromTheSystemNamesTheSegmentAndTheCause) {
  const std::string name = unique_name();
  const std::string path = "/dev/shm/" + name;
  ASSERT_EQ(::mkdir(path.c_str(), 0700), 0) << std::strerror(errno);
  struct RemoveDir {
    std::string path;
    ~RemoveDir() { ::rmdir(path.c_str()); }
  } remove_dir{path};
  // The causes the system gives for this object (glibc's shm_open says EINVAL for a directory).
  ASSERT_LT(::shm_open(("/" + name).c_str(), O_RDWR, 0), 0);
  const std::string open_cause = std::strerror(errno);
  ASSERT_NE(::shm_unlink(("/" + name).c_str()), 0);
  const std::string unlink_cause = std::strerror(errno);
  const std::string segment = "shm segment '" + name + "': ";
  EXPECT_EQ(error_of([&] { Ring::attach(name); }), segment + "cannot open: " + open_cause);
  EXPECT_EQ(error_of([&] { CounterBlock::attach(name); }), segment + "cannot open: " + open_cause);
  EXPECT_EQ(error_of([&] { Ring::unlink(name); }), segment + "cannot unlink: " + unlink_cause);
}

TEST(ShmSegment, NoDescriptorOutlivesTheMapping) {
  ShmGuard ring_name(unique_name("ring"));
  ShmGuard block_name(unique_name("block"));
  Ring created = Ring::create(testing::small_ring(ring_name));
  Ring opened = Ring::open_or_create(testing::small_ring(ring_name));
  Ring attached = Ring::attach(ring_name);
  CounterBlock block = CounterBlock::open_or_create(block_name);
  const auto listed = Ring::list(ring_name.name());
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(open_fds_on(ring_name.name()), std::vector<std::string>{});
  EXPECT_EQ(open_fds_on(block_name.name()), std::vector<std::string>{});
}

TEST(ShmSegment, CounterBlocksAre0600Or0660WhenGroupShareableWhateverTheUmask) {
  ShmGuard own(unique_name("own"));
  ShmGuard group(unique_name("group"));
  const mode_t old = ::umask(0077);
  CounterBlock a = CounterBlock::open_or_create(own, CounterBlock::kDefaultCapacity, false);
  CounterBlock b = CounterBlock::open_or_create(group, CounterBlock::kDefaultCapacity, true);
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm/" + own.name()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(("/dev/shm/" + group.name()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u) << "run.group_access: peakctl of the group reads the counters";
}

TEST(ShmSegment, WorkingHandlesArePopulated) {
  ShmGuard name(unique_name());
  RingOptions o = testing::small_ring(name, 64);
  o.slot_bytes = 64 * 1024;  // 4 MiB of slots nobody has touched yet
  Ring created = Ring::create(o);
  Ring attached = Ring::attach(name);
  for (Ring* r : {&created, &attached}) {
    const MappingSize m = mapping_holding(r->data_area());
    ASSERT_GE(m.size_kb * 1024, r->data_area_bytes());
    EXPECT_EQ(m.rss_kb, m.size_kb) << "the slots are not mapped in: the first copy into each would fault";
  }
}

}  // namespace
}  // namespace peaknet::shm
