#pragma once
// Test seam of segment creation (libshm/src/shm_segment.cpp): a hook that runs in the creating process
// after the segment's header is written and before it is linked at its name. Tests hold a creation open
// there to prove that concurrent openers never see or replace a half-made segment. Not for daemons.
#include <functional>
#include <string>

namespace peaknet::shm::detail {

void set_before_publish_hook_for_testing(std::function<void(const std::string& name)> hook);

}  // namespace peaknet::shm::detail
