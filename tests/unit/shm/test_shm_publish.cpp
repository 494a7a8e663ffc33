// Segment creation is atomic: a segment appears under its name only complete, so a daemon opening a
// ring while another daemon is still creating it (populating GiB of cold memory on a freshly booted
// node) never replaces it. Issue 20: inferd replaced ingestd's half-made Q1, and ingestd then filled
// an unlinked ring that nobody read.
#include <sys/wait.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "shm/internal/publish_hook.hpp"
#include "shm_test_support.hpp"

namespace peaknet::shm {
namespace {

using namespace std::chrono_literals;
using testing::ShmGuard;
using testing::small_ring;
using testing::unique_name;

/// /dev/shm entries whose name starts with `prefix`.
std::vector<std::string> shm_entries(const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator("/dev/shm")) {
    const std::string n = e.path().filename().string();
    if (n.rfind(prefix, 0) == 0) out.push_back(n);
  }
  return out;
}

/// Holds the first creation of `name` at the publish point until release(); later creations pass.
class HeldCreation {
 public:
  explicit HeldCreation(std::string name) : name_(std::move(name)) {
    detail::set_before_publish_hook_for_testing([this](const std::string& n) {
      if (n != name_) return;
      std::unique_lock lock(mutex_);
      if (used_) return;
      used_ = true;
      reached_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return released_; });
    });
  }
  ~HeldCreation() {
    release();
    detail::set_before_publish_hook_for_testing(nullptr);
  }
  bool wait_reached(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [this] { return reached_; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::string name_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool used_ = false, reached_ = false, released_ = false;
};

TEST(ShmPublish, SegmentIsInvisibleUnderItsNameUntilComplete) {
  ShmGuard name(unique_name());
  HeldCreation held(name);
  std::optional<Ring> creator;
  std::thread t([&] { creator.emplace(Ring::open_or_create(small_ring(name))); });
  ASSERT_TRUE(held.wait_reached(10s));
  EXPECT_FALSE(Ring::exists(name)) << "a half-made segment is visible under its name";
  const auto private_objects = shm_entries(name.name() + ".init-");
  ASSERT_EQ(private_objects.size(), 1u);
  const auto listed = Ring::list(name.name());
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].kind, "initializing");
  EXPECT_EQ(listed[0].creator_pid, ::getpid());
  EXPECT_FALSE(listed[0].stale) << "the creator is alive: peakctl clean must not remove it";
  held.release();
  t.join();
  ASSERT_TRUE(creator.has_value());
  EXPECT_TRUE(Ring::exists(name));
  EXPECT_TRUE(shm_entries(name.name() + ".init-").empty()) << "the private name outlived the creation";
}

TEST(ShmPublish, OpenerDuringACreationEndsOnTheSameSegmentAsTheCreator) {
  ShmGuard name(unique_name());
  HeldCreation held(name);
  std::optional<Ring> slow_creator;
  std::thread t([&] { slow_creator.emplace(Ring::open_or_create(small_ring(name))); });
  ASSERT_TRUE(held.wait_reached(10s));
  // The other daemon arrives while the first is still populating: it creates (and links) its own.
  Ring opener = Ring::open_or_create(small_ring(name));
  held.release();
  t.join();
  ASSERT_TRUE(slow_creator.has_value());
  // The slow creator lost the link and attached to the winner: what it publishes, the opener claims.
  auto slot = slow_creator->acquire(1s);
  ASSERT_TRUE(slot.has_value());
  const uint64_t marker = 0x5eed'0000'0000'0020ull;
  std::memcpy(slot->data(), &marker, sizeof marker);
  slow_creator->publish(std::move(*slot));
  std::vector<ReadSlot> got;
  ASSERT_EQ(opener.claim(got, 1, 1s), 1u) << "the two handles are on different segments";
  uint64_t read = 0;
  std::memcpy(&read, got[0].data(), sizeof read);
  EXPECT_EQ(read, marker);
  EXPECT_EQ(shm_entries(name.name()).size(), 1u) << "exactly one object: no private leftovers";
}

TEST(ShmPublish, CounterBlockOpenedDuringItsCreationIsTheSameBlock) {
  ShmGuard name(unique_name());
  HeldCreation held(name);
  std::optional<CounterBlock> slow;
  std::thread t([&] { slow.emplace(CounterBlock::open_or_create(name)); });
  ASSERT_TRUE(held.wait_reached(10s));
  CounterBlock other = CounterBlock::open_or_create(name);
  held.release();
  t.join();
  ASSERT_TRUE(slow.has_value());
  slow->counter("events").store(42);
  EXPECT_EQ(other.counter("events").load(), 42u);
}

TEST(ShmPublish, PrivateObjectOfACreatorThatDiedIsRemovedByTheNextCreation) {
  ShmGuard name(unique_name());
  const pid_t child = ::fork();
  if (child == 0) {
    detail::set_before_publish_hook_for_testing([](const std::string&) { ::_exit(0); });  // dies mid-creation
    try {
      Ring::open_or_create(small_ring(name));
    } catch (...) {}
    ::_exit(3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child did not die at the publish point";
  EXPECT_FALSE(Ring::exists(name));
  const auto listed = Ring::list(name.name());
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].kind, "initializing");
  EXPECT_TRUE(listed[0].stale);
  Ring ring = Ring::open_or_create(small_ring(name));
  EXPECT_EQ(shm_entries(name.name()).size(), 1u) << "the dead creator's private object is still there";
}

}  // namespace
}  // namespace peaknet::shm
