// Ring::link_problem / still_linked: a handle learns that its segment was unlinked or replaced under it
// (the root cause of issue 20's silent hang: a producer publishing into a segment nobody else maps).
#include <gtest/gtest.h>

#include "shm_test_support.hpp"

namespace peaknet::shm {
namespace {

using testing::ShmGuard;
using testing::small_ring;
using testing::unique_name;

TEST(ShmRingLink, AFreshRingAndItsAttachedHandlesAreLinked) {
  ShmGuard name(unique_name());
  Ring creator = Ring::create(small_ring(name));
  Ring other = Ring::attach(name);
  EXPECT_TRUE(creator.still_linked()) << creator.link_problem();
  EXPECT_EQ(other.link_problem(), "");
  EXPECT_EQ(other.link_problem(), "");  // the cached identity gives the same answer
}

TEST(ShmRingLink, AnUnlinkedSegmentIsReportedByName) {
  ShmGuard name(unique_name());
  Ring sut = Ring::create(small_ring(name));
  ASSERT_TRUE(sut.still_linked());
  Ring::unlink(name);
  EXPECT_FALSE(sut.still_linked());
  const std::string problem = sut.link_problem();
  EXPECT_NE(problem.find("'" + name.name() + "'"), std::string::npos) << problem;
  EXPECT_NE(problem.find("unlinked"), std::string::npos) << problem;
}

TEST(ShmRingLink, ASegmentReplacedUnderAHandleIsReportedAndTheNewOneIsLinked) {
  ShmGuard name(unique_name());
  Ring old_handle = Ring::create(small_ring(name));
  ASSERT_TRUE(old_handle.still_linked());  // identity known before the replacement
  Ring::unlink(name);
  Ring replacement = Ring::create(small_ring(name));
  EXPECT_TRUE(replacement.still_linked()) << replacement.link_problem();
  const std::string problem = old_handle.link_problem();
  EXPECT_NE(problem.find("replaced"), std::string::npos) << problem;
  EXPECT_NE(problem.find(name.name()), std::string::npos) << problem;
}

TEST(ShmRingLink, AHandleThatFirstLooksAfterTheReplacementStillSeesIt) {
  ShmGuard name(unique_name());
  Ring old_handle = Ring::create(small_ring(name));
  Ring::unlink(name);
  Ring replacement = Ring::create(small_ring(name));
  EXPECT_FALSE(old_handle.still_linked());  // the inode it maps is not the one at the name
  EXPECT_TRUE(replacement.still_linked());
}

}  // namespace
}  // namespace peaknet::shm
