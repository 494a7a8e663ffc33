// EventIdWindow (writerd's de-duplication memory) against a plain reference model: the same answers for
// every insert/contains over long random sequences with many repeats, evictions and hash collisions
// (small id and epoch ranges, id 0, ids near 2^64), at several capacities; the same id in two epochs
// names two events.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <random>
#include <set>
#include <utility>

#include "writerd/event_id_window.hpp"

namespace peaknet::writerd {
namespace {

// The obvious implementation the window must behave like.
class ReferenceWindow {
 public:
  explicit ReferenceWindow(size_t capacity) : capacity_(capacity) {}
  bool insert(EventKey key) {
    if (!ids_.insert({key.epoch, key.id}).second) return false;
    order_.push_back({key.epoch, key.id});
    if (order_.size() > capacity_) {
      ids_.erase(order_.front());
      order_.pop_front();
    }
    return true;
  }
  bool contains(EventKey key) const { return ids_.count({key.epoch, key.id}) != 0; }
  size_t size() const { return ids_.size(); }

 private:
  size_t capacity_;
  std::set<std::pair<uint64_t, uint64_t>> ids_;
  std::deque<std::pair<uint64_t, uint64_t>> order_;
};

TEST(EventIdWindow, MatchesTheReferenceOnRandomSequences) {
  std::mt19937_64 rng(20261129);
  for (size_t capacity : {1, 2, 3, 7, 64, 1000}) {
    for (uint64_t range : {uint64_t{4}, uint64_t{3 * capacity}, uint64_t{1} << 40}) {
      EventIdWindow sut(capacity);
      ReferenceWindow ref(capacity);
      std::uniform_int_distribution<uint64_t> pick(0, range), pick_epoch(0, 2);
      for (int op = 0; op < 20000; ++op) {
        EventKey key{pick_epoch(rng), pick(rng)};
        if (op % 97 == 0) key.id = ~uint64_t{0} - (key.id % 3);  // the top of the id space
        if (op % 89 == 0) key.epoch = ~uint64_t{0};
        if (op % 3 == 0) {
          ASSERT_EQ(sut.contains(key), ref.contains(key))
              << "capacity " << capacity << " op " << op << " id " << key.id;
        } else {
          ASSERT_EQ(sut.insert(key), ref.insert(key)) << "capacity " << capacity << " op " << op << " id " << key.id;
        }
        ASSERT_EQ(sut.size(), ref.size());
      }
    }
  }
}

TEST(EventIdWindow, ForgetsTheOldestFirstAndKeepsItsCapacity) {
  EventIdWindow sut(3);
  EXPECT_EQ(sut.capacity(), 3u);
  for (uint64_t id : {0, 10, 20}) EXPECT_TRUE(sut.insert({0, id}));
  EXPECT_FALSE(sut.insert({0, 10}));  // a duplicate inside the window
  EXPECT_TRUE(sut.insert({0, 30}));   // evicts 0, the oldest
  EXPECT_FALSE(sut.contains({0, 0}));
  EXPECT_TRUE(sut.contains({0, 10}) && sut.contains({0, 20}) && sut.contains({0, 30}));
  EXPECT_TRUE(sut.insert({0, 0}));  // forgotten keys count as new again
  EXPECT_FALSE(sut.contains({0, 10}));
  EXPECT_EQ(sut.size(), 3u);
  // Sequential ids of one source (the common case) over many windows.
  EventIdWindow seq(1024);
  for (uint64_t id = 1; id <= 100000; ++id) ASSERT_TRUE(seq.insert({7, id}));
  for (uint64_t id = 100000 - 1023; id <= 100000; ++id) ASSERT_TRUE(seq.contains({7, id}));
  EXPECT_FALSE(seq.contains({7, 100000 - 1024}));
}

// Rings removed between two runs: the second run's ids start at 0 again, under a new epoch.
TEST(EventIdWindow, TheSameIdInAnotherEpochIsAnotherEvent) {
  EventIdWindow sut(64);
  const uint64_t first_run = 0x1234, second_run = 0xfeed;
  for (uint64_t id = 0; id < 20; ++id) ASSERT_TRUE(sut.insert({first_run, id}));
  for (uint64_t id = 0; id < 20; ++id) {
    EXPECT_FALSE(sut.contains({second_run, id}));
    EXPECT_TRUE(sut.insert({second_run, id}));
    EXPECT_FALSE(sut.insert({first_run, id})) << "a re-delivery of the first run's event " << id;
  }
  EXPECT_EQ(sut.size(), 40u);
}

TEST(EventIdWindow, RefusesACapacityItCannotIndex) {
  EXPECT_THROW(EventIdWindow((size_t{1} << 31) + 1), std::invalid_argument);
}

}  // namespace
}  // namespace peaknet::writerd
