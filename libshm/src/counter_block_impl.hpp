#pragma once
#include <string>

#include "shm/counter_block.hpp"
#include "shm/internal/counter_layout.hpp"
#include "shm_segment.hpp"

namespace peaknet::shm {

/// "" when the bytes are a complete counter block of this layout version; else why not.
std::string counter_block_problem(const detail::ShmSegment& segment);

class CounterBlockImpl {
 public:
  CounterBlockImpl(detail::ShmSegment seg, std::string name) : seg_(std::move(seg)), name_(std::move(name)) {}
  layout::CounterHeader& header() const { return *reinterpret_cast<layout::CounterHeader*>(seg_.base()); }
  layout::CounterEntry* entries() const {
    return reinterpret_cast<layout::CounterEntry*>(seg_.base() + sizeof(layout::CounterHeader));
  }
  layout::CounterEntry& find_or_register(std::string_view name, MetricKind kind);
  const std::string& name() const { return name_; }

 private:
  detail::ShmSegment seg_;
  std::string name_;
};

}  // namespace peaknet::shm
