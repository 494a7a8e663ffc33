// EventIdWindow (writerd's de-duplication memory) against a plain reference model: the same answers for
// every insert/contains over long random sequences with many repeats, evictions and hash collisions
// (small id ranges, id 0, ids near 2^64), at several capacities.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <random>
#include <unordered_set>

#include "writerd/event_id_window.hpp"

namespace peaknet::writerd {
namespace {

// The obvious implementation the window must behave like.
class ReferenceWindow {
 public:
  explicit ReferenceWindow(size_t capacity) : capacity_(capacity) {}
  bool insert(uint64_t id) {
    if (!ids_.insert(id).second) return false;
    order_.push_back(id);
    if (order_.size() > capacity_) {
      ids_.erase(order_.front());
      order_.pop_front();
    }
    return true;
  }
  bool contains(uint64_t id) const { return ids_.count(id) != 0; }
  size_t size() const { return ids_.size(); }

 private:
  size_t capacity_;
  std::unordered_set<uint64_t> ids_;
  std::deque<uint64_t> order_;
};

TEST(EventIdWindow, MatchesTheReferenceOnRandomSequences) {
  std::mt19937_64 rng(20261129);
  for (size_t capacity : {1, 2, 3, 7, 64, 1000}) {
    for (uint64_t range : {uint64_t{4}, uint64_t{3 * capacity}, uint64_t{1} << 40}) {
      EventIdWindow sut(capacity);
      ReferenceWindow ref(capacity);
      std::uniform_int_distribution<uint64_t> pick(0, range);
      for (int op = 0; op < 20000; ++op) {
        uint64_t id = pick(rng);
        if (op % 97 == 0) id = ~uint64_t{0} - (id % 3);  // the top of the id space
        if (op % 3 == 0) {
          ASSERT_EQ(sut.contains(id), ref.contains(id)) << "capacity " << capacity << " op " << op << " id " << id;
        } else {
          ASSERT_EQ(sut.insert(id), ref.insert(id)) << "capacity " << capacity << " op " << op << " id " << id;
        }
        ASSERT_EQ(sut.size(), ref.size());
      }
    }
  }
}

TEST(EventIdWindow, ForgetsTheOldestFirstAndKeepsItsCapacity) {
  EventIdWindow sut(3);
  EXPECT_EQ(sut.capacity(), 3u);
  for (uint64_t id : {0, 10, 20}) EXPECT_TRUE(sut.insert(id));
  EXPECT_FALSE(sut.insert(10));  // a duplicate inside the window
  EXPECT_TRUE(sut.insert(30));   // evicts 0, the oldest
  EXPECT_FALSE(sut.contains(0));
  EXPECT_TRUE(sut.contains(10) && sut.contains(20) && sut.contains(30));
  EXPECT_TRUE(sut.insert(0));  // forgotten ids count as new again
  EXPECT_FALSE(sut.contains(10));
  EXPECT_EQ(sut.size(), 3u);
  // Sequential ids of one source (the common case) over many windows.
  EventIdWindow seq(1024);
  for (uint64_t id = 1; id <= 100000; ++id) ASSERT_TRUE(seq.insert(id));
  for (uint64_t id = 100000 - 1023; id <= 100000; ++id) ASSERT_TRUE(seq.contains(id));
  EXPECT_FALSE(seq.contains(100000 - 1024));
}

}  // namespace
}  // namespace peaknet::writerd
