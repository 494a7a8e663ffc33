// Bad segments: corrupted magic, wrong version, wrong header size, wrong geometry, truncated or empty
// files, missing segments, bad names -> a clear ShmError naming the segment and the problem; no crash.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "shm/internal/ring_layout.hpp"
#include "shm_test_support.hpp"

namespace peaknet::shm {
namespace {

using namespace std::chrono_literals;
using testing::ShmGuard;
using testing::small_ring;
using testing::unique_name;

// Creates a valid ring, lets `edit` change its bytes (with no handle attached), then returns.
template <typename Edit>
void make_and_edit(const std::string& name, Edit edit) {
  { Ring r = Ring::create(small_ring(name)); }
  int fd = ::shm_open(("/" + name).c_str(), O_RDWR, 0);
  ASSERT_GE(fd, 0);
  const off_t size = ::lseek(fd, 0, SEEK_END);
  void* p = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ASSERT_NE(p, MAP_FAILED);
  edit(*static_cast<layout::RingHeader*>(p), fd);
  ::munmap(p, static_cast<size_t>(size));
  ::close(fd);
}

std::string attach_error(const std::string& name) {
  try {
    Ring r = Ring::attach(name);
  } catch (const ShmError& e) {
    return e.what();
  }
  return "";
}

void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << text << "' lacks '" << part << "'";
}

TEST(ShmBadSegment, CorruptedMagicIsAClearError) {
  ShmGuard name(unique_name());
  make_and_edit(name, [](layout::RingHeader& h, int) { h.magic.store(0xDEADBEEF); });
  const std::string e = attach_error(name);
  expect_contains(e, "shm segment '" + name.name() + "'");
  expect_contains(e, "bad magic");
}

TEST(ShmBadSegment, WrongLayoutVersionNamesBothVersions) {
  ShmGuard name(unique_name());
  make_and_edit(name, [](layout::RingHeader& h, int) { h.layout_version = 3; });
  EXPECT_EQ(attach_error(name), "shm segment '" + name.name() + "': layout version 3, expected " +
                                    std::to_string(layout::kRingLayoutVersion));
}

TEST(ShmBadSegment, WrongHeaderSizeIsAClearError) {
  ShmGuard name(unique_name());
  make_and_edit(name, [](layout::RingHeader& h, int) { h.header_bytes = 512; });
  expect_contains(attach_error(name), "header size 512, expected 1280");
}

TEST(ShmBadSegment, InconsistentGeometryIsAClearError) {
  ShmGuard name(unique_name());
  make_and_edit(name, [](layout::RingHeader& h, int) { h.slot_count = 1000; });
  expect_contains(attach_error(name), "inconsistent offsets");
}

TEST(ShmBadSegment, SlotSizeNotAPageMultipleIsAClearError) {
  ShmGuard name(unique_name());
  make_and_edit(name, [](layout::RingHeader& h, int) { h.slot_bytes = 1000; });
  expect_contains(attach_error(name), "bad geometry");
}

TEST(ShmBadSegment, TruncatedFileIsAClearError) {
  ShmGuard name(unique_name());
  make_and_edit(name, [](layout::RingHeader&, int fd) { ASSERT_EQ(::ftruncate(fd, 8192), 0); });
  const std::string e = attach_error(name);
  expect_contains(e, "truncated: file is 8192 bytes");
}

TEST(ShmBadSegment, FileSmallerThanTheHeaderIsAClearError) {
  ShmGuard name(unique_name());
  int fd = ::shm_open(("/" + name.name()).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 100), 0);
  const char junk[] = "definitely not a ring header";
  ASSERT_EQ(::write(fd, junk, sizeof junk), static_cast<ssize_t>(sizeof junk));
  ::close(fd);
  expect_contains(attach_error(name), "smaller than the ring header");
}

TEST(ShmBadSegment, EmptyFileIsAClearErrorAfterAShortWait) {
  ShmGuard name(unique_name());
  int fd = ::shm_open(("/" + name.name()).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  const auto t0 = std::chrono::steady_clock::now();
  expect_contains(attach_error(name), "smaller than the ring header");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(ShmBadSegment, MissingSegmentIsAClearError) {
  ShmGuard name(unique_name());
  EXPECT_EQ(attach_error(name), "shm segment '" + name.name() + "': does not exist");
}

TEST(ShmBadSegment, InvalidNamesAreRejected) {
  EXPECT_THROW(Ring::attach(""), ShmError);
  EXPECT_THROW(Ring::attach("a/b"), ShmError);
  EXPECT_THROW(Ring::create(small_ring(std::string(300, 'x'))), ShmError);
  EXPECT_THROW(Ring::create(small_ring("pktest-zero-slots", 0)), ShmError);
}

TEST(ShmBadSegment, CreateReplacesAStaleBrokenSegment) {
  ShmGuard name(unique_name());
  make_and_edit(name, [](layout::RingHeader& h, int) { h.magic.store(0x1234); });
  Ring sut = Ring::create(small_ring(name, 7));
  EXPECT_EQ(sut.slot_count(), 7u);
}

TEST(ShmBadSegment, OpenOrCreateReplacesAnIncompatibleSegmentWithoutLiveUsers) {
  ShmGuard name(unique_name());
  { Ring old = Ring::create(small_ring(name, 4)); }
  Ring sut = Ring::open_or_create(small_ring(name, 9));
  EXPECT_EQ(sut.slot_count(), 9u);
}

TEST(ShmBadSegment, OpenOrCreateRefusesAnIncompatibleSegmentWithLiveUsers) {
  ShmGuard name(unique_name());
  Ring live = Ring::create(small_ring(name, 4));
  try {
    Ring::open_or_create(small_ring(name, 9));
    FAIL() << "expected ShmError";
  } catch (const ShmError& e) {
    expect_contains(e.what(), "slot count 4, expected 9; in use by pid " + std::to_string(::getpid()));
  }
  EXPECT_EQ(live.slot_count(), 4u);  // untouched
}

TEST(ShmBadSegment, OpenOrCreateRefusesAnotherVersionWhoseCreatorIsAlive) {
  ShmGuard name(unique_name());
  make_and_edit(name, [](layout::RingHeader& h, int) { h.layout_version = 99; });  // creator = this process
  try {
    Ring::open_or_create(small_ring(name));
    FAIL() << "expected ShmError";
  } catch (const ShmError& e) {
    expect_contains(e.what(), "layout version 99, expected 1; in use by pid");
  }
}

RingOptions typed_ring(const std::string& name, uint32_t payload_layout) {
  RingOptions o = small_ring(name);
  o.payload_layout = payload_layout;
  return o;
}

void publish_one(Ring& ring) {
  auto slot = ring.acquire(1s);
  ASSERT_TRUE(slot.has_value());
  ring.publish(std::move(*slot));
}

TEST(ShmBadSegment, OpenOrCreateRefusesAnotherPayloadLayoutWithLiveUsers) {
  ShmGuard name(unique_name());
  Ring live = Ring::create(typed_ring(name, 3));
  try {
    Ring::open_or_create(typed_ring(name, 4));
    FAIL() << "expected ShmError";
  } catch (const ShmError& e) {
    expect_contains(e.what(), "payload layout 3, this build reads 4");
    expect_contains(e.what(), "in use by pid " + std::to_string(::getpid()));
  }
}

TEST(ShmBadSegment, OpenOrCreateReplacesAnotherPayloadLayoutAndSaysHowManyEventsWereDropped) {
  ShmGuard name(unique_name());
  {
    Ring old = Ring::create(typed_ring(name, 3));
    publish_one(old);
    publish_one(old);
  }
  Ring sut = Ring::open_or_create(typed_ring(name, 4));
  expect_contains(sut.replaced(), "payload layout 3, this build reads 4");
  expect_contains(sut.replaced(), "2 events queued in it were dropped");
  EXPECT_EQ(sut.counters().occupancy, 0u);
}

TEST(ShmBadSegment, OpenOrCreateKeepsTheEventsOfTheSamePayloadLayout) {
  ShmGuard name(unique_name());
  {
    Ring old = Ring::create(typed_ring(name, 4));
    publish_one(old);
  }
  Ring sut = Ring::open_or_create(typed_ring(name, 4));
  EXPECT_EQ(sut.replaced(), "");
  EXPECT_EQ(sut.counters().occupancy, 1u);
}

TEST(ShmBadSegment, AnUntypedHandleOrRingDoesNotConflict) {
  ShmGuard typed_name(unique_name());
  Ring typed = Ring::create(typed_ring(typed_name, 4));
  Ring untyped_handle = Ring::open_or_create(small_ring(typed_name));  // payload_layout 0: e.g. a test tool
  EXPECT_EQ(untyped_handle.replaced(), "");

  ShmGuard untyped_name(unique_name());
  Ring untyped = Ring::create(small_ring(untyped_name));
  Ring typed_handle = Ring::open_or_create(typed_ring(untyped_name, 4));
  EXPECT_EQ(typed_handle.replaced(), "");
}

TEST(ShmBadSegment, ListReportsTheProblemOfABrokenSegment) {
  ShmGuard name(unique_name());
  make_and_edit(name, [](layout::RingHeader& h, int) { h.layout_version = 5; });
  const auto infos = Ring::list(name.name());
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].kind, "ring");
  EXPECT_EQ(infos[0].problem, "layout version 5, expected 1");
  EXPECT_FALSE(infos[0].stale);  // its creator (this process) is alive
}

}  // namespace
}  // namespace peaknet::shm
